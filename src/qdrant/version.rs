//! A Qdrant server version, compared to gate endpoints and fields that arrived later.

use std::fmt;

/// `major.minor.patch` (pre-release suffixes ignored).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version(pub u32, pub u32, pub u32);

impl Version {
    /// Every version the agent knows of has it.
    pub const ANY: Version = Version(0, 0, 0);

    pub fn parse(text: &str) -> Option<Version> {
        let mut parts = text.trim().trim_start_matches('v').split('.').map(|part| {
            let digits: String = part.chars().take_while(char::is_ascii_digit).collect();
            digits.parse::<u32>().ok()
        });
        Some(Version(
            parts.next()??,
            parts.next()??,
            parts.next().flatten().unwrap_or(0),
        ))
    }
}

impl fmt::Display for Version {
    /// `1.17` for `x.y.0`, `1.17.1` otherwise: how the docs name versions.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Version(major, minor, 0) => write!(f, "{major}.{minor}"),
            Version(major, minor, patch) => write!(f, "{major}.{minor}.{patch}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Version;

    #[test]
    fn versions_parse_and_order() {
        assert_eq!(Version::parse("1.18.3"), Some(Version(1, 18, 3)));
        assert_eq!(Version::parse("v1.17.1-dev"), Some(Version(1, 17, 1)));
        assert_eq!(Version::parse("1.19"), Some(Version(1, 19, 0)));
        assert_eq!(Version::parse("garbage"), None);
        assert!(Version(1, 17, 1) > Version(1, 17, 0));
        assert_eq!(Version(1, 17, 0).to_string(), "1.17");
        assert_eq!(Version(1, 17, 1).to_string(), "1.17.1");
    }
}
