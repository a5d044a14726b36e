//! The Dockerfile builds the agent, checked without a Docker engine: the build stage (the stage
//! the final stage copies the binary from) is parsed, exactly the files its `COPY` lines name
//! are copied from the repository (minus `.dockerignore`) into an empty temporary directory
//! standing for its `WORKDIR`, each of its `RUN` lines runs there with `sh -c`, in order (the
//! dependency-caching stub build, then the real build), and the file the final stage copies out
//! of the build stage must then exist and be the agent (its `--help` lists its commands).
//!
//! The parser refuses what it does not understand instead of skipping it: `ADD`, `COPY --from`
//! or any other flag in the build stage, `ENV`, `ARG` and every other instruction there, JSON
//! (exec) form, heredocs, wildcards, a second `WORKDIR`, `.dockerignore` patterns other than
//! plain paths. Extend it when the Dockerfile needs more; do not make it lenient.
//!
//! Cargo's output goes to a persistent `CARGO_TARGET_DIR`, `target/dockerfile-build/` (standing
//! for `<WORKDIR>/target`), so later runs only rebuild the agent, not its dependencies; the
//! first run compiles every dependency in release mode, which takes minutes. The toolchain is
//! the local one, not the image's, and the base images are not pulled: this checks the files
//! and the steps, not the images.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// One instruction: its line number (of its first line), keyword (upper case) and arguments.
#[derive(Debug, Clone)]
struct Instruction {
    line: usize,
    keyword: String,
    args: String,
}

#[derive(Debug)]
struct Stage {
    line: usize,
    base: String,
    name: Option<String>,
    instructions: Vec<Instruction>,
}

/// What the test does for the build stage, in order.
#[derive(Debug, PartialEq)]
enum Step {
    /// Copy these context-relative sources to this destination (relative to the WORKDIR).
    Copy {
        sources: Vec<String>,
        dest: String,
    },
    Run(String),
}

#[derive(Debug)]
struct BuildStage {
    workdir: String,
    steps: Vec<Step>,
    /// What the final stage copies out of the build stage, relative to the WORKDIR.
    artifacts: Vec<String>,
}

/// Instructions of a Dockerfile: comments and blank lines dropped, `\` continuations joined
/// (comment lines inside a continuation are dropped, as Docker does).
fn instructions(text: &str) -> Result<Vec<Instruction>, String> {
    let mut out = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (index, raw) in text.lines().enumerate() {
        let number = index + 1;
        let trimmed = raw.trim();
        if current.is_none() {
            if let Some(directive) = trimmed.strip_prefix('#') {
                let directive = directive.trim().to_ascii_lowercase();
                if out.is_empty() && directive.starts_with("escape") {
                    return Err(format!(
                        "line {number}: parser directive `{trimmed}` not understood"
                    ));
                }
                continue;
            }
        } else if trimmed.starts_with('#') {
            continue;
        }
        if trimmed.is_empty() && current.is_none() {
            continue;
        }
        let (continued, piece) = match trimmed.strip_suffix('\\') {
            Some(piece) => (true, piece.trim_end()),
            None => (false, trimmed),
        };
        let (line, mut text) = current.take().unwrap_or((number, String::new()));
        if !text.is_empty() && !piece.is_empty() {
            text.push(' ');
        }
        text.push_str(piece);
        if continued {
            current = Some((line, text));
        } else {
            let (keyword, args) = text.split_once(char::is_whitespace).unwrap_or((&text, ""));
            out.push(Instruction {
                line,
                keyword: keyword.to_ascii_uppercase(),
                args: args.trim().to_string(),
            });
        }
    }
    if let Some((line, _)) = current {
        return Err(format!(
            "line {line}: the file ends inside a `\\` continuation"
        ));
    }
    Ok(out)
}

fn stages(text: &str) -> Result<Vec<Stage>, String> {
    let mut stages: Vec<Stage> = Vec::new();
    for instruction in instructions(text)? {
        if instruction.keyword == "FROM" {
            let words: Vec<&str> = instruction.args.split_whitespace().collect();
            if words.iter().any(|w| w.starts_with("--")) {
                return Err(format!(
                    "line {}: FROM with flags not understood: {}",
                    instruction.line, instruction.args
                ));
            }
            let name = match words.as_slice() {
                [_] => None,
                [_, as_, name] if as_.eq_ignore_ascii_case("as") => Some(name.to_string()),
                _ => {
                    return Err(format!(
                        "line {}: FROM not understood: {}",
                        instruction.line, instruction.args
                    ))
                }
            };
            stages.push(Stage {
                line: instruction.line,
                base: words[0].to_string(),
                name,
                instructions: Vec::new(),
            });
        } else {
            match stages.last_mut() {
                Some(stage) => stage.instructions.push(instruction),
                None => {
                    return Err(format!(
                        "line {}: {} before the first FROM not understood",
                        instruction.line, instruction.keyword
                    ))
                }
            }
        }
    }
    if stages.is_empty() {
        return Err("no FROM: not a Dockerfile".to_string());
    }
    Ok(stages)
}

/// Arguments of a COPY/RUN in shell form; exec (JSON) form and heredocs are refused.
fn shell_form(instruction: &Instruction) -> Result<&str, String> {
    let args = instruction.args.as_str();
    if args.starts_with('[') {
        return Err(format!(
            "line {}: {} in JSON (exec) form not understood: {args}",
            instruction.line, instruction.keyword
        ));
    }
    if args.contains("<<") {
        return Err(format!(
            "line {}: {} with a heredoc not understood: {args}",
            instruction.line, instruction.keyword
        ));
    }
    if args.is_empty() {
        return Err(format!(
            "line {}: {} without arguments",
            instruction.line, instruction.keyword
        ));
    }
    Ok(args)
}

/// The build stage: the one stage the final stage copies from (`COPY --from=<name>`), with its
/// WORKDIR, its COPY and RUN steps, and the paths the final stage copies out of it.
fn build_stage(text: &str) -> Result<BuildStage, String> {
    let stages = stages(text)?;
    let last = stages.last().unwrap();
    let mut from_names = Vec::new();
    let mut artifacts = Vec::new();
    for instruction in last.instructions.iter().filter(|i| i.keyword == "COPY") {
        let args = shell_form(instruction)?;
        let words: Vec<&str> = args.split_whitespace().collect();
        let Some(from) = words.iter().find_map(|w| w.strip_prefix("--from=")) else {
            continue;
        };
        let sources: Vec<&str> = words
            .iter()
            .filter(|w| !w.starts_with("--"))
            .copied()
            .collect();
        if sources.len() != 2 {
            return Err(format!(
                "line {}: COPY --from with {} paths not understood (one source, one destination): {args}",
                instruction.line,
                sources.len()
            ));
        }
        from_names.push(from.to_string());
        artifacts.push(sources[0].to_string());
    }
    from_names.dedup();
    let name = match from_names.as_slice() {
        [name] => name.clone(),
        [] => {
            return Err(format!(
                "the final stage (line {}) copies nothing from a build stage (no COPY --from)",
                last.line
            ))
        }
        several => {
            return Err(format!(
                "the final stage copies from several stages, not understood: {several:?}"
            ))
        }
    };
    let stage = stages
        .iter()
        .find(|s| s.name.as_deref() == Some(name.as_str()))
        .ok_or_else(|| format!("COPY --from={name}: no stage named {name}"))?;
    if stages
        .iter()
        .any(|s| s.name.as_deref() == Some(stage.base.as_str()))
    {
        return Err(format!(
            "line {}: the build stage starts from another stage ({}), not understood",
            stage.line, stage.base
        ));
    }

    let mut workdir: Option<String> = None;
    let mut steps = Vec::new();
    for instruction in &stage.instructions {
        match instruction.keyword.as_str() {
            "WORKDIR" => {
                let dir = instruction.args.trim();
                if workdir.is_some() || !steps.is_empty() {
                    return Err(format!(
                        "line {}: a WORKDIR after the first step or a second WORKDIR is not understood",
                        instruction.line
                    ));
                }
                if !dir.starts_with('/') || dir.contains(char::is_whitespace) || dir.contains('$') {
                    return Err(format!(
                        "line {}: WORKDIR {dir} not understood (one absolute path, no variables)",
                        instruction.line
                    ));
                }
                workdir = Some(dir.trim_end_matches('/').to_string());
            }
            "COPY" => {
                let args = shell_form(instruction)?;
                let words: Vec<&str> = args.split_whitespace().collect();
                if let Some(flag) = words.iter().find(|w| w.starts_with("--")) {
                    let what = if flag.starts_with("--from") {
                        "COPY --from in the build stage (files from another stage or image cannot be reproduced here)"
                    } else {
                        "a COPY flag"
                    };
                    return Err(format!(
                        "line {}: {what} not understood: {args}",
                        instruction.line
                    ));
                }
                if words.len() < 2 {
                    return Err(format!(
                        "line {}: COPY needs a source and a destination: {args}",
                        instruction.line
                    ));
                }
                let (dest, sources) = words.split_last().unwrap();
                for path in words.iter() {
                    if path.contains(['*', '?', '[', '$']) {
                        return Err(format!(
                            "line {}: wildcards and variables in COPY not understood: {args}",
                            instruction.line
                        ));
                    }
                }
                for source in sources {
                    if source.starts_with('/') || source.split('/').any(|part| part == "..") {
                        return Err(format!(
                            "line {}: COPY source {source} outside the build context",
                            instruction.line
                        ));
                    }
                }
                steps.push(Step::Copy {
                    sources: sources.iter().map(|s| s.to_string()).collect(),
                    dest: dest.to_string(),
                });
            }
            "RUN" => {
                let args = shell_form(instruction)?;
                if args.starts_with("--") {
                    return Err(format!(
                        "line {}: RUN flags (--mount, --network, …) not understood: {args}",
                        instruction.line
                    ));
                }
                steps.push(Step::Run(args.to_string()));
            }
            other => {
                return Err(format!(
                    "line {}: {other} in the build stage is not understood by this test \
                     (it knows WORKDIR, COPY and RUN): teach tests/dockerfile.rs what it means",
                    instruction.line
                ))
            }
        }
    }
    let workdir = workdir.ok_or_else(|| {
        format!(
            "the build stage (line {}) has no WORKDIR: where its files go is not understood",
            stage.line
        )
    })?;
    if !steps.iter().any(|s| matches!(s, Step::Run(_))) {
        return Err("the build stage runs nothing".to_string());
    }
    let artifacts = artifacts
        .into_iter()
        .map(|path| {
            path.strip_prefix(&format!("{workdir}/"))
                .map(str::to_string)
                .ok_or_else(|| {
                    format!("COPY --from={name} {path}: not under the WORKDIR {workdir}")
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(BuildStage {
        workdir,
        steps,
        artifacts,
    })
}

/// `.dockerignore`: plain paths only (`target/`, `.git/`); anything else is refused.
fn dockerignore() -> Result<Vec<String>, String> {
    let Ok(text) = std::fs::read_to_string(root().join(".dockerignore")) else {
        return Ok(Vec::new());
    };
    let mut ignored = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.contains(['*', '?', '[', '!']) || line.contains("..") {
            return Err(format!(
                ".dockerignore line {}: pattern {line} not understood (plain paths only)",
                index + 1
            ));
        }
        ignored.push(line.trim_start_matches("./").trim_matches('/').to_string());
    }
    Ok(ignored)
}

fn is_ignored(relative: &Path, ignored: &[String]) -> bool {
    ignored.iter().any(|i| relative.starts_with(i))
}

/// Copies a context-relative file or directory (its contents, as COPY does) to `dest`,
/// returning the context-relative files copied.
fn copy(context: &Path, source: &str, dest: &Path, ignored: &[String]) -> Vec<PathBuf> {
    let relative = Path::new(source.trim_start_matches("./"));
    let from = context.join(relative);
    let mut copied = Vec::new();
    if is_ignored(relative, ignored) {
        return copied;
    }
    if from.is_dir() {
        std::fs::create_dir_all(dest).unwrap();
        let mut entries: Vec<_> = std::fs::read_dir(&from)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        entries.sort();
        for entry in entries {
            let child = relative.join(&entry);
            copied.extend(copy(
                context,
                child.to_str().unwrap(),
                &dest.join(&entry),
                ignored,
            ));
        }
    } else if from.is_file() {
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(&from, dest).unwrap_or_else(|e| panic!("{}: {e}", from.display()));
        copied.push(relative.to_path_buf());
    } else {
        panic!(
            "COPY {source}: not in the build context ({})",
            from.display()
        );
    }
    copied
}

/// Where a COPY destination lands in `workdir_path` (the directory standing for `workdir`).
fn destination(workdir: &str, workdir_path: &Path, dest: &str) -> PathBuf {
    let relative = match dest.strip_prefix('/') {
        Some(_) if dest == workdir || dest == format!("{workdir}/") => "",
        Some(_) => dest
            .strip_prefix(&format!("{workdir}/"))
            .unwrap_or_else(|| panic!("COPY to {dest}: outside the WORKDIR {workdir}")),
        None => dest,
    };
    let relative = relative.trim_start_matches("./");
    let relative = if relative == "." { "" } else { relative };
    workdir_path.join(relative)
}

fn tail(bytes: &[u8], lines: usize) -> String {
    let text = String::from_utf8_lossy(bytes);
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Runs the build stage of `dockerfile` (its text) as described in the module header.
fn build_like_the_dockerfile(dockerfile: &str) {
    let stage = build_stage(dockerfile).unwrap_or_else(|e| panic!("Dockerfile: {e}"));
    let ignored = dockerignore().unwrap_or_else(|e| panic!("{e}"));
    let target_dir = root().join("target/dockerfile-build");
    std::fs::create_dir_all(&target_dir).unwrap();
    let context = tempfile::tempdir().unwrap();
    let workdir = context.path();

    // What the final stage takes out of the build stage: the binary under <WORKDIR>/target is
    // in CARGO_TARGET_DIR here. Removed first, so an earlier run's binary cannot pass.
    let artifacts: Vec<PathBuf> = stage
        .artifacts
        .iter()
        .map(|a| match a.strip_prefix("target/") {
            Some(inside) => target_dir.join(inside),
            None => workdir.join(a),
        })
        .collect();
    for artifact in &artifacts {
        let _ = std::fs::remove_file(artifact);
    }

    let mut copied = Vec::new();
    for step in &stage.steps {
        match step {
            Step::Copy { sources, dest } => {
                let dest_path = destination(&stage.workdir, workdir, dest);
                for source in sources {
                    let from = root().join(source.trim_start_matches("./"));
                    let into_dir = sources.len() > 1 || dest.ends_with('/') || from.is_dir();
                    let target = if into_dir && from.is_file() {
                        dest_path.join(from.file_name().unwrap())
                    } else {
                        dest_path.clone()
                    };
                    copied.extend(copy(root(), source, &target, &ignored));
                }
            }
            Step::Run(command) => {
                eprintln!("RUN {command}");
                let output = Command::new("sh")
                    .arg("-c")
                    .arg(command)
                    .current_dir(workdir)
                    .env("CARGO_TARGET_DIR", &target_dir)
                    .output()
                    .unwrap_or_else(|e| panic!("sh -c {command}: {e}"));
                assert!(
                    output.status.success(),
                    "RUN {command}\nfailed ({}) with only the files the build stage copies \
                     ({copied:?}):\n{}\n{}",
                    output.status,
                    tail(&output.stdout, 20),
                    tail(&output.stderr, 40)
                );
            }
        }
    }
    assert!(!copied.is_empty(), "the build stage copies no files");
    eprintln!("copied: {copied:?}");
    for artifact in &artifacts {
        assert!(
            artifact.is_file(),
            "the final stage copies {} out of the build stage, but the build did not make it",
            artifact.display()
        );
    }
    // The agent, not the stub of the dependency step (which prints nothing).
    let agent = artifacts
        .iter()
        .find(|a| a.file_name().is_some_and(|n| n == "qdrant-otel-agent"))
        .expect("the final stage copies the qdrant-otel-agent binary");
    let help = Command::new(agent).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(
        help.contains("check-config"),
        "{} is not the agent: --help printed {help:?}",
        agent.display()
    );
}

#[test]
fn the_dockerfile_build_stage_builds_the_agent_from_the_files_it_copies() {
    let dockerfile = std::fs::read_to_string(root().join("Dockerfile")).unwrap();
    build_like_the_dockerfile(&dockerfile);
}

/// The parser reads the shipped Dockerfile as intended: the dependency stub first, then the
/// sources, the binary taken from the WORKDIR's target directory.
#[test]
fn the_parser_reads_the_shipped_build_stage() {
    let dockerfile = std::fs::read_to_string(root().join("Dockerfile")).unwrap();
    let stage = build_stage(&dockerfile).unwrap();
    assert_eq!(stage.workdir, "/src");
    assert_eq!(stage.artifacts, ["target/release/qdrant-otel-agent"]);
    assert_eq!(
        stage.steps.first(),
        Some(&Step::Copy {
            sources: vec!["Cargo.toml".into(), "Cargo.lock".into()],
            dest: "./".into()
        }),
        "dependencies first"
    );
    assert!(
        matches!(stage.steps.get(1), Some(Step::Run(run)) if run.contains("cargo build")),
        "then the stub build of the dependencies: {:?}",
        stage.steps
    );
}

/// What the parser does not understand fails with a message naming it, instead of being
/// skipped.
#[test]
fn the_parser_refuses_what_it_does_not_understand() {
    let base = "FROM rust:1.90.0-bookworm AS build\nWORKDIR /src\nCOPY Cargo.toml ./\n";
    let tail = "RUN cargo build --release\n\nFROM debian:12.12-slim\nCOPY --from=build /src/target/release/qdrant-otel-agent /usr/local/bin/\n";
    let cases = [
        ("ADD src ./src\n", "ADD in the build stage"),
        (
            "COPY --from=other /x ./x\n",
            "COPY --from in the build stage",
        ),
        ("COPY --chown=1:1 src ./src\n", "a COPY flag"),
        ("ENV CARGO_HOME=/cargo\n", "ENV in the build stage"),
        ("ARG VERSION\n", "ARG in the build stage"),
        ("RUN --mount=type=cache,target=/x true\n", "RUN flags"),
        ("RUN [\"cargo\", \"build\"]\n", "JSON (exec) form"),
        ("RUN <<EOF\ntrue\nEOF\n", "heredoc"),
        ("COPY src/*.rs ./src/\n", "wildcards"),
        ("WORKDIR /other\n", "second WORKDIR"),
        ("FROBNICATE now\n", "FROBNICATE in the build stage"),
    ];
    for (insert, expected) in cases {
        let dockerfile = format!("{base}{insert}{tail}");
        let error = build_stage(&dockerfile).expect_err(insert);
        assert!(
            error.contains(expected),
            "{insert:?}: expected an error about {expected:?}, got {error:?}"
        );
    }
    let no_copy_from = "FROM rust:1.90.0-bookworm AS build\nWORKDIR /src\nRUN true\nFROM debian:12.12-slim\nCOPY x /x\n";
    assert!(build_stage(no_copy_from)
        .unwrap_err()
        .contains("copies nothing from a build stage"));
    let from_stage = "FROM rust:1.90.0-bookworm AS deps\nFROM deps AS build\nWORKDIR /src\nRUN true\nFROM debian:12.12-slim\nCOPY --from=build /src/x /x\n";
    assert!(build_stage(from_stage)
        .unwrap_err()
        .contains("starts from another stage"));
}
