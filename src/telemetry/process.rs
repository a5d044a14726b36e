//! The agent's process, as the operating system counts it: CPU time (`getrusage`) and resident
//! memory (`/proc/self/statm`, Linux only).

/// CPU time used so far, in seconds: (user, system).
pub fn cpu_seconds() -> Option<(f64, f64)> {
    // SAFETY: getrusage writes one plain struct that lives on this stack and reads nothing
    // else.
    let usage = unsafe {
        let mut usage = std::mem::zeroed::<libc::rusage>();
        if libc::getrusage(libc::RUSAGE_SELF, &mut usage) != 0 {
            return None;
        }
        usage
    };
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    Some((seconds(usage.ru_utime), seconds(usage.ru_stime)))
}

/// Resident memory now, in bytes.
pub fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    resident_from_statm(&statm, page_size()?)
}

/// The second field of `/proc/self/statm` is the resident size in pages.
fn resident_from_statm(statm: &str, page_size: u64) -> Option<u64> {
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    pages.checked_mul(page_size)
}

fn page_size() -> Option<u64> {
    // SAFETY: sysconf only reads a system constant.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    u64::try_from(size).ok().filter(|size| *size > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statm_gives_resident_pages_times_the_page_size() {
        assert_eq!(
            resident_from_statm("5000 1200 300 10 0 900 0\n", 4096),
            Some(1200 * 4096)
        );
        assert_eq!(resident_from_statm("5000", 4096), None);
        assert_eq!(resident_from_statm("", 4096), None);
        assert_eq!(resident_from_statm("a b", 4096), None);
    }

    #[test]
    fn the_process_uses_some_cpu_and_memory() {
        let mut spent = 0u64;
        for i in 0..2_000_000u64 {
            spent = spent.wrapping_add(i * i);
        }
        assert!(spent > 0);
        let (user, system) = cpu_seconds().expect("getrusage");
        assert!(user + system > 0.0);
        if cfg!(target_os = "linux") {
            assert!(resident_bytes().expect("statm") > 1 << 20);
        }
    }
}
