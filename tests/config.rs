//! Configuration: layering (defaults < file < environment < flags), the documented environment
//! variables, the standard OTEL_* variables, validation that reports every problem at once with
//! its key and origin, and secrets that never show.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use figment::value::Value;
use qdrant_otel_agent::config::{
    self, Compression, ConfigError, ConfigSources, FlagValues, OtlpProtocol, Settings,
    TemporalityPreference,
};
use qdrant_otel_agent::qdrant::Auth;

struct Case {
    dir: tempfile::TempDir,
    file: Option<PathBuf>,
    env: HashMap<String, String>,
    flags: Vec<(&'static str, &'static str, Value)>,
}

impl Case {
    fn new() -> Case {
        Case {
            dir: tempfile::tempdir().unwrap(),
            file: None,
            env: HashMap::new(),
            flags: Vec::new(),
        }
    }

    fn file(mut self, name: &str, text: &str) -> Case {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        self.file = Some(path);
        self
    }

    fn env(mut self, key: &str, value: &str) -> Case {
        self.env.insert(key.into(), value.into());
        self
    }

    fn flag(mut self, key: &'static str, flag: &'static str, value: Value) -> Case {
        self.flags.push((key, flag, value));
        self
    }

    fn sources(&self) -> ConfigSources {
        ConfigSources {
            file: self.file.clone(),
            flags: FlagValues {
                entries: self.flags.clone(),
            },
            env: self.env.clone(),
        }
    }

    fn load(&self) -> Settings {
        match config::load(&self.sources()) {
            Ok((_, settings)) => settings,
            Err(error) => panic!("{error}"),
        }
    }

    fn error(&self) -> ConfigError {
        config::load(&self.sources()).expect_err("configuration must be rejected")
    }

    fn path(&self) -> String {
        self.file.as_ref().unwrap().display().to_string()
    }
}

/// `(key, origin, message)` of every problem, in order.
fn problems(error: &ConfigError) -> Vec<(String, String, String)> {
    error
        .problems
        .iter()
        .map(|p| (p.key.clone(), p.origin.clone(), p.message.clone()))
        .collect()
}

fn p(key: &str, origin: &str, message: &str) -> (String, String, String) {
    (key.into(), origin.into(), message.into())
}

#[test]
fn defaults() {
    let settings = Case::new().load();
    assert_eq!(settings.nodes.len(), 1);
    assert_eq!(settings.nodes[0].instance, "localhost:6333");
    assert_eq!(settings.nodes[0].client.timeout, Duration::from_secs(5));
    assert!(matches!(settings.nodes[0].client.auth, Auth::None));
    assert_eq!(settings.interval, Duration::from_secs(15));
    assert_eq!(settings.poll.detail_every, 4);
    assert_eq!(settings.otlp.protocol, OtlpProtocol::HttpProtobuf);
    assert_eq!(settings.otlp.compression, Compression::Gzip);
    assert_eq!(settings.otlp.endpoint, "http://localhost:4318/v1/metrics");
    assert_eq!(settings.otlp.timeout, Duration::from_secs(10));
    assert!(settings.otlp.headers.is_empty());
    assert_eq!(settings.cluster_name, "qdrant-cluster");
}

#[test]
fn flags_beat_environment_beat_file_beat_defaults() {
    for (name, text) in [
        ("agent.yaml", "poll:\n  interval: 9s\n"),
        ("agent.toml", "[poll]\ninterval = \"9s\"\n"),
    ] {
        let file_only = Case::new().file(name, text);
        assert_eq!(file_only.load().interval, Duration::from_secs(9), "{name}");
        let with_env = Case::new()
            .file(name, text)
            .env("QDRANT_OTEL_POLL__INTERVAL", "8s");
        assert_eq!(with_env.load().interval, Duration::from_secs(8), "{name}");
        let with_flag = with_env.flag("poll.interval", "--poll-interval", Value::from("7s"));
        assert_eq!(with_flag.load().interval, Duration::from_secs(7), "{name}");
    }
}

#[test]
fn documented_short_variables_work_as_is() {
    let settings = Case::new()
        .env("QDRANT_URL", "https://a.example:6333, http://b.example")
        .env("QDRANT_API_KEY", "0012345")
        .load();
    let instances: Vec<&str> = settings.nodes.iter().map(|n| n.instance.as_str()).collect();
    assert_eq!(instances, ["a.example:6333", "b.example:80"]);
    match &settings.nodes[0].client.auth {
        Auth::ApiKey(key) => assert_eq!(key, "0012345", "an all-digit key keeps its zeros"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn all_digit_key_in_the_prefixed_variable_and_in_a_file() {
    let settings = Case::new()
        .env("QDRANT_OTEL_QDRANT__API_KEY", "000777")
        .load();
    assert!(matches!(&settings.nodes[0].client.auth, Auth::ApiKey(k) if k == "000777"));
    let settings = Case::new()
        .file("agent.yaml", "qdrant:\n  api_key: 12345\n")
        .load();
    assert!(matches!(&settings.nodes[0].client.auth, Auth::ApiKey(k) if k == "12345"));
}

#[test]
fn api_key_file_is_read_and_trimmed() {
    let case = Case::new();
    let key_path = case.dir.path().join("key");
    std::fs::write(&key_path, "  s3cret\n").unwrap();
    let settings = case
        .env(
            "QDRANT_OTEL_QDRANT__API_KEY_FILE",
            key_path.to_str().unwrap(),
        )
        .load();
    assert!(matches!(&settings.nodes[0].client.auth, Auth::ApiKey(k) if k == "s3cret"));

    let missing = Case::new().env("QDRANT_OTEL_QDRANT__API_KEY_FILE", "/nonexistent/key");
    let error = missing.error();
    assert_eq!(problems(&error).len(), 1);
    let (key, origin, message) = &problems(&error)[0];
    assert_eq!(key, "qdrant.api_key_file");
    assert_eq!(
        origin,
        "environment variable QDRANT_OTEL_QDRANT__API_KEY_FILE"
    );
    assert!(
        message.starts_with("cannot read /nonexistent/key: "),
        "{message}"
    );
}

#[test]
fn every_problem_is_reported_at_once_with_key_and_origin() {
    let case = Case::new()
        .file(
            "agent.yaml",
            "qdrant:\n  timeout: 20s\notlp:\n  protocol: udp\nlog:\n  format: xml\n",
        )
        .env("QDRANT_OTEL_POLL__DETAIL_EVERY", "0")
        .flag("qdrant.url", "--qdrant-url", Value::from(vec!["ftp://x"]));
    let error = case.error();
    let file = format!("config file {}", case.path());
    assert_eq!(
        problems(&error),
        vec![
            p(
                "qdrant.timeout",
                &file,
                "must be below poll.interval (20s >= 15s)"
            ),
            p(
                "qdrant.url",
                "command-line flag --qdrant-url",
                "\"ftp://x\": scheme must be http or https, not \"ftp\""
            ),
            p(
                "poll.detail_every",
                "environment variable QDRANT_OTEL_POLL__DETAIL_EVERY",
                "must be at least 1"
            ),
            p(
                "otlp.protocol",
                &file,
                "\"udp\" is not supported: use grpc or http/protobuf"
            ),
            p(
                "log.format",
                &file,
                "\"xml\" is not supported: use text or json"
            ),
        ]
    );
    let text = error.to_string();
    assert!(
        text.starts_with("invalid configuration (5 problems):\n"),
        "{text}"
    );
    assert!(text.contains(&format!(
        "  - log.format ({file}): \"xml\" is not supported: use text or json\n"
    )));
}

#[test]
fn typos_and_wrong_types_name_the_key_and_file() {
    let case = Case::new().file("agent.yaml", "poll:\n  intervall: 5s\n");
    let error = case.error();
    let (key, origin, message) = &problems(&error)[0];
    assert_eq!(key, "poll.intervall");
    assert_eq!(origin, &format!("config file {}", case.path()));
    assert!(message.contains("unknown field"), "{message}");

    let case = Case::new().env("QDRANT_OTEL_POLL__INTERVAL", "soon");
    let (key, origin, message) = problems(&case.error())[0].clone();
    assert_eq!(key, "poll.interval");
    assert_eq!(origin, "environment variable QDRANT_OTEL_POLL__INTERVAL");
    assert!(message.contains("soon"), "{message}");
}

#[test]
fn config_file_must_exist_and_be_yaml_or_toml() {
    let missing = ConfigSources {
        file: Some(PathBuf::from("/nonexistent/agent.yaml")),
        ..ConfigSources::default()
    };
    let error = config::load(&missing).unwrap_err();
    assert_eq!(
        problems(&error),
        vec![p(
            "--config",
            "command-line flag",
            "config file /nonexistent/agent.yaml does not exist or is not a file"
        )]
    );
    let case = Case::new().file("agent.json", "{}");
    let error = case.error();
    assert_eq!(
        problems(&error),
        vec![p(
            "--config",
            "command-line flag",
            &format!(
                "config file {} must end in .yaml, .yml or .toml",
                case.path()
            )
        )]
    );
}

#[test]
fn other_validation_messages() {
    let case = Case::new()
        .file(
            "agent.yaml",
            "qdrant:\n  url: [http://a:6333, http://a:6333]\n  api_key: k\n  jwt: t\n  max_concurrency: 0\n  tls:\n    ca_file: /nonexistent/ca.pem\npoll:\n  interval: 50ms\n  jitter: 1m\notlp:\n  endpoint: 'not a url'\n  compression: zstd\nresource:\n  attributes:\n    service.instance.id: x\ncollections:\n  include: ['[']\nmetrics:\n  nope: {enabled: true}\nlog:\n  level: 'qdrant=loud'\n",
        );
    let file = format!("config file {}", case.path());
    let got = problems(&case.error());
    let expected =
        vec![
        p("qdrant.jwt", &file, "set only one of qdrant.api_key, qdrant.jwt"),
        p("qdrant.tls.ca_file", &file, "/nonexistent/ca.pem does not exist or is not a file"),
        p("qdrant.max_concurrency", &file, "must be at least 1"),
        p("qdrant.url", &file, "\"http://a:6333\" is listed twice"),
        p("poll.interval", &file, "must be at least 100ms"),
        p("poll.jitter", &file, "must be below poll.interval"),
        p(
            "otlp.endpoint",
            &file,
            "\"not a url\": not a valid URL (relative URL without a base)",
        ),
        p("otlp.compression", &file, "\"zstd\" is not supported: use gzip or none"),
        p(
            "log.level",
            &file,
            "\"qdrant=loud\" is not a level (error, warn, info, debug, trace) or a tracing filter",
        ),
        p(
            "metrics.nope",
            &file,
            "is not a metric of this agent (see docs/metrics.md for the names)",
        ),
    ];
    for problem in &expected {
        assert!(got.contains(problem), "missing {problem:?} in {got:#?}");
    }
    assert!(got
        .iter()
        .any(|(key, _, message)| key == "collections.include"
            && message.starts_with("invalid glob \"[\"")));
    assert_eq!(got.len(), expected.len() + 1, "{got:#?}");
}

#[test]
fn standard_otel_variables_keep_working_unless_the_agent_config_sets_the_same() {
    let settings = Case::new()
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
        .env("OTEL_EXPORTER_OTLP_COMPRESSION", "none")
        .load();
    assert_eq!(settings.otlp.protocol, OtlpProtocol::Grpc);
    assert_eq!(
        settings.otlp.compression,
        Compression::None,
        "read by the agent, not by the exporter"
    );
    assert_eq!(settings.otlp.endpoint, "http://localhost:4317");

    let settings = Case::new()
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
        .env("QDRANT_OTEL_OTLP__PROTOCOL", "http/protobuf")
        .env("QDRANT_OTEL_OTLP__ENDPOINT", "http://collector:4318")
        .load();
    assert_eq!(settings.otlp.protocol, OtlpProtocol::HttpProtobuf);
    assert_eq!(
        settings.otlp.endpoint, "http://collector:4318/v1/metrics",
        "a base URL, like OTEL_EXPORTER_OTLP_ENDPOINT"
    );
    let settings = Case::new()
        .env("QDRANT_OTEL_OTLP__PROTOCOL", "grpc")
        .env("QDRANT_OTEL_OTLP__ENDPOINT", "http://collector:4317")
        .load();
    assert_eq!(settings.otlp.endpoint, "http://collector:4317");
}

#[test]
fn secrets_never_show() {
    let case = Case::new().env("QDRANT_API_KEY", "qdrant-secret-1").env(
        "QDRANT_OTEL_OTLP__HEADERS__AUTHORIZATION",
        "Bearer otlp-secret-2",
    );
    let (raw, settings) = config::load(&case.sources()).unwrap();
    let debug = format!("{settings:?} {raw:?}");
    let rendered = config::render_effective(&raw);
    for text in [&debug, &rendered] {
        assert!(!text.contains("qdrant-secret-1"), "{text}");
        assert!(!text.contains("otlp-secret-2"), "{text}");
        assert!(text.contains("<redacted>"));
    }
    assert_eq!(
        settings.otlp.headers[0].1.expose(),
        "Bearer otlp-secret-2",
        "the value itself is intact"
    );
}

#[test]
fn every_wrong_type_in_a_file_is_reported_with_its_key() {
    let case = Case::new().file(
        "agent.yaml",
        "qdrant:\n  timeout: soon\n  max_concurrency: many\npoll:\n  detail_every: -1\n  interval: [1]\nlog:\n  format: text\n",
    );
    let file = format!("config file {}", case.path());
    assert_eq!(
        problems(&case.error()),
        vec![
            p(
                "qdrant.timeout",
                &file,
                "invalid value string \"soon\", expected a duration"
            ),
            p(
                "qdrant.max_concurrency",
                &file,
                "invalid type: found string \"many\", expected usize"
            ),
            p(
                "poll.interval",
                &file,
                "invalid type: found sequence, expected a duration"
            ),
            p(
                "poll.detail_every",
                &file,
                "invalid value signed int `-1`, expected u32"
            ),
        ]
    );
}

#[test]
fn wrong_types_from_every_layer_name_their_origin() {
    let case = Case::new()
        .file("agent.toml", "[poll]\njitter = true\n")
        .env("QDRANT_OTEL_QDRANT__MAX_RESPONSE_BYTES", "lots")
        .flag("poll.interval", "--poll-interval", Value::from("often"));
    let file = format!("config file {}", case.path());
    assert_eq!(
        problems(&case.error()),
        vec![
            p(
                "qdrant.max_response_bytes",
                "environment variable QDRANT_OTEL_QDRANT__MAX_RESPONSE_BYTES",
                "invalid type: found string \"lots\", expected u64"
            ),
            p(
                "poll.interval",
                "command-line flag --poll-interval",
                "invalid value string \"often\", expected a duration"
            ),
            p(
                "poll.jitter",
                &file,
                "invalid type: found bool true, expected a duration"
            ),
        ]
    );
}

#[test]
fn every_unknown_key_is_reported() {
    let case = Case::new()
        .file(
            "agent.yaml",
            "poll:\n  intervall: 5s\nqdrant:\n  tls:\n    ca: x\n",
        )
        .env("QDRANT_OTEL_LOG__LEVL", "debug");
    let file = format!("config file {}", case.path());
    assert_eq!(
        problems(&case.error()),
        vec![
            p(
                "log.levl",
                "environment variable QDRANT_OTEL_LOG__LEVL",
                "unknown field `levl`, expected one of `level`, `format`"
            ),
            p(
                "poll.intervall",
                &file,
                "unknown field `intervall`, expected one of `interval`, `initial_delay`, `jitter`, `detail_every`, `collection_requests`, `read_all_at_start`"
            ),
            p(
                "qdrant.tls.ca",
                &file,
                "unknown field `ca`, expected one of `ca_file`, `insecure_skip_verify`"
            ),
        ]
    );
}

#[test]
fn a_bad_exclude_glob_is_reported_under_exclude() {
    let case = Case::new().file(
        "agent.yaml",
        "collections:\n  include: ['ok_*']\n  exclude: ['[']\n",
    );
    let got = problems(&case.error());
    assert_eq!(got.len(), 1, "{got:#?}");
    let (key, origin, message) = &got[0];
    assert_eq!(key, "collections.exclude");
    assert_eq!(origin, &format!("config file {}", case.path()));
    assert!(message.starts_with("invalid glob \"[\": "), "{message}");
}

#[test]
fn bad_standard_otlp_variables_are_reported_under_their_own_names() {
    let env = |name: &str| format!("environment variable {name}");
    let case = Case::new()
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
        .env("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "http/json")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", "not-a-url")
        .env("OTEL_EXPORTER_OTLP_HEADERS", "a=1,broken")
        .env("OTEL_EXPORTER_OTLP_COMPRESSION", "zstd")
        .env("OTEL_EXPORTER_OTLP_METRICS_TIMEOUT", "ten");
    assert_eq!(
        problems(&case.error()),
        vec![
            p(
                "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL",
                &env("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL"),
                "\"http/json\" is not supported: use grpc or http/protobuf"
            ),
            p(
                "OTEL_EXPORTER_OTLP_COMPRESSION",
                &env("OTEL_EXPORTER_OTLP_COMPRESSION"),
                "\"zstd\" is not supported: use gzip or none"
            ),
            p(
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                &env("OTEL_EXPORTER_OTLP_ENDPOINT"),
                "\"not-a-url\": not a valid URL (relative URL without a base)"
            ),
            p(
                "OTEL_EXPORTER_OTLP_HEADERS",
                &env("OTEL_EXPORTER_OTLP_HEADERS"),
                "\"broken\" is not a key=value pair"
            ),
            p(
                "OTEL_EXPORTER_OTLP_METRICS_TIMEOUT",
                &env("OTEL_EXPORTER_OTLP_METRICS_TIMEOUT"),
                "\"ten\" is not a whole number of milliseconds"
            ),
        ]
    );
    let case = Case::new().env("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json");
    assert_eq!(
        problems(&case.error()),
        vec![p(
            "OTEL_EXPORTER_OTLP_PROTOCOL",
            &env("OTEL_EXPORTER_OTLP_PROTOCOL"),
            "\"http/json\" is not supported: use grpc or http/protobuf"
        )]
    );
}

#[test]
fn a_config_key_hides_a_bad_variable() {
    let settings = Case::new()
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")
        .env("QDRANT_OTEL_OTLP__PROTOCOL", "grpc")
        .load();
    assert_eq!(settings.otlp.protocol, OtlpProtocol::Grpc);
}

#[test]
fn standard_otlp_variables_are_resolved_by_the_agent() {
    let settings = Case::new()
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/")
        .env(
            "OTEL_EXPORTER_OTLP_HEADERS",
            "x-tenant=a%20b, Authorization=Basic%3Dx",
        )
        .env("OTEL_EXPORTER_OTLP_TIMEOUT", "2500")
        .env("OTEL_EXPORTER_OTLP_METRICS_COMPRESSION", "none")
        .env("OTEL_EXPORTER_OTLP_COMPRESSION", "zstd")
        .load();
    assert_eq!(settings.otlp.endpoint, "http://collector:4318/v1/metrics");
    assert_eq!(settings.otlp.timeout, Duration::from_millis(2500));
    assert_eq!(
        settings.otlp.compression,
        Compression::None,
        "the METRICS_ variable wins, the generic one is not read"
    );
    let headers: Vec<(&str, &str)> = settings
        .otlp
        .headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.expose()))
        .collect();
    assert_eq!(headers, [("x-tenant", "a b"), ("Authorization", "Basic=x")]);

    let settings = Case::new()
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", "http://ignored:4318")
        .env(
            "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
            "http://collector:4318/custom/path",
        )
        .load();
    assert_eq!(
        settings.otlp.endpoint, "http://collector:4318/custom/path",
        "the metrics endpoint is used verbatim"
    );

    let settings = Case::new()
        .env("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "http://ignored:4318")
        .env("OTEL_EXPORTER_OTLP_TIMEOUT", "2500")
        .env("OTEL_EXPORTER_OTLP_HEADERS", "authorization=from-env,x-a=1")
        .file(
            "agent.yaml",
            "otlp:\n  endpoint: http://collector:4318/v1/metrics\n  timeout: 3s\n  headers:\n    Authorization: from-file\n",
        )
        .load();
    assert_eq!(settings.otlp.endpoint, "http://collector:4318/v1/metrics");
    assert_eq!(settings.otlp.timeout, Duration::from_secs(3));
    let headers: Vec<(&str, &str)> = settings
        .otlp
        .headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.expose()))
        .collect();
    assert_eq!(headers, [("x-a", "1"), ("Authorization", "from-file")]);
}

#[test]
fn header_names_keep_their_case_except_from_variable_names() {
    let settings = Case::new()
        .env("QDRANT_OTEL_OTLP__HEADERS__X_SCOPE_ORGID", "tenant-1")
        .load();
    assert_eq!(settings.otlp.headers[0].0, "x-scope-orgid");
    let settings = Case::new()
        .file("agent.toml", "[otlp.headers]\nX_Custom-Token = \"t\"\n")
        .load();
    assert_eq!(settings.otlp.headers[0].0, "X_Custom-Token");
}

#[test]
fn malformed_resource_attributes_variable() {
    let case = Case::new().env("OTEL_RESOURCE_ATTRIBUTES", "team=search,region");
    assert_eq!(
        problems(&case.error()),
        vec![p(
            "OTEL_RESOURCE_ATTRIBUTES",
            "environment variable OTEL_RESOURCE_ATTRIBUTES",
            "\"region\" is not a key=value pair"
        )]
    );
}

#[test]
fn resource_attributes_are_resolved_once_in_order() {
    let settings = Case::new()
        .env(
            "OTEL_RESOURCE_ATTRIBUTES",
            "deployment.environment.name=prod,service.name=from-attrs,team=a%20b",
        )
        .env("OTEL_SERVICE_NAME", "from-env")
        .file("agent.yaml", "resource:\n  attributes:\n    team: search\n")
        .load();
    let resolved: std::collections::BTreeMap<&str, &str> = settings
        .resource_attributes
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(resolved["service.name"], "from-env");
    assert_eq!(resolved["deployment.environment.name"], "prod");
    assert_eq!(resolved["team"], "search", "the config file wins");
    let default = Case::new().load();
    assert_eq!(
        default.resource_attributes,
        vec![("service.name".to_string(), "qdrant".to_string())]
    );
}

#[test]
fn a_server_port_that_is_not_a_port_is_a_problem_wherever_it_comes_from() {
    let case = Case::new()
        .env("OTEL_RESOURCE_ATTRIBUTES", "server.port=http")
        .file(
            "agent.yaml",
            "resource:\n  attributes:\n    server.port: \"70000\"\n",
        );
    let path = case.path();
    assert_eq!(
        problems(&case.error()),
        vec![
            p(
                "OTEL_RESOURCE_ATTRIBUTES",
                "environment variable OTEL_RESOURCE_ATTRIBUTES",
                "server.port must be a port number (0 to 65535), not \"http\""
            ),
            p(
                "resource.attributes.server.port",
                &format!("config file {path}"),
                "server.port must be a port number (0 to 65535), not \"70000\""
            ),
        ]
    );
}

#[test]
fn files_are_read_and_checked_during_validation() {
    let case = Case::new();
    let ca = case.dir.path().join("ca.pem");
    std::fs::write(&ca, "this is not a certificate\n").unwrap();
    let key = case.dir.path().join("key");
    std::fs::write(&key, "abc\u{7}def\n").unwrap();
    let case = case.file(
        "agent.yaml",
        &format!(
            "qdrant:\n  api_key_file: {}\n  tls:\n    ca_file: {}\n",
            key.display(),
            ca.display()
        ),
    );
    let file = format!("config file {}", case.path());
    assert_eq!(
        problems(&case.error()),
        vec![
            p(
                "qdrant.api_key_file",
                &file,
                &format!(
                    "{} holds characters not allowed in an HTTP header",
                    key.display()
                )
            ),
            p(
                "qdrant.tls.ca_file",
                &file,
                &format!("{} holds no PEM certificate", ca.display())
            ),
        ]
    );
}

#[test]
fn an_api_key_with_a_control_character() {
    let case = Case::new().env("QDRANT_API_KEY", "abc\u{1}def");
    assert_eq!(
        problems(&case.error()),
        vec![p(
            "qdrant.api_key",
            "environment variable QDRANT_API_KEY",
            "the value holds characters not allowed in an HTTP header"
        )]
    );
}

#[test]
fn an_empty_qdrant_url_variable_is_a_problem() {
    let case = Case::new().env("QDRANT_URL", "");
    assert_eq!(
        problems(&case.error()),
        vec![p(
            "qdrant.url",
            "environment variable QDRANT_URL",
            "is set but empty"
        )]
    );
    // An empty QDRANT_API_KEY stays unset (compose files pass `${QDRANT_API_KEY:-}`).
    let settings = Case::new().env("QDRANT_API_KEY", "").load();
    assert!(matches!(settings.nodes[0].client.auth, Auth::None));
}

#[test]
fn an_unset_qdrant_timeout_follows_a_short_interval() {
    let settings = Case::new().env("QDRANT_OTEL_POLL__INTERVAL", "1s").load();
    assert_eq!(settings.nodes[0].client.timeout, Duration::from_secs(1));
    let (raw, _) = config::load(
        &Case::new()
            .env("QDRANT_OTEL_POLL__INTERVAL", "2s")
            .sources(),
    )
    .unwrap();
    assert_eq!(
        raw.qdrant.timeout,
        Duration::from_secs(2),
        "check-config shows the effective timeout"
    );
    let case = Case::new()
        .env("QDRANT_OTEL_POLL__INTERVAL", "1s")
        .env("QDRANT_OTEL_QDRANT__TIMEOUT", "1s");
    assert_eq!(
        problems(&case.error()),
        vec![p(
            "qdrant.timeout",
            "environment variable QDRANT_OTEL_QDRANT__TIMEOUT",
            "must be below poll.interval (1s >= 1s)"
        )]
    );
}

/// Found by the `config_loader` fuzz target: a level with leading whitespace before a
/// multi-byte character made tracing-subscriber panic. Now it is a problem like any other, and
/// surrounding whitespace in a valid level is harmless.
#[test]
fn a_level_with_odd_whitespace_is_a_problem_not_a_panic() {
    let case = Case::new().env("QDRANT_OTEL_LOG__LEVEL", " aé=x");
    assert_eq!(
        problems(&case.error()),
        vec![p(
            "log.level",
            "environment variable QDRANT_OTEL_LOG__LEVEL",
            "\"aé=x\" is not a level (error, warn, info, debug, trace) or a tracing filter"
        )]
    );
    let settings = Case::new()
        .env("QDRANT_OTEL_LOG__LEVEL", " info, qdrant_otel_agent=debug ")
        .load();
    assert_eq!(settings.log_level, "info,qdrant_otel_agent=debug");
}

/// figment's own parser panics on an escape after a non-ASCII character in a quoted
/// environment value (found by the `config_loader` fuzz target); the agent reads such a value as
/// a plain string and reports it where it does not fit.
#[test]
fn a_quoted_environment_value_with_escapes_and_unicode_is_a_problem_not_a_panic() {
    let case = Case::new().env("QDRANT_OTEL_POLL__INTERVAL", "\"é\\n\"");
    let found = problems(&case.error());
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, "poll.interval");
    assert_eq!(
        found[0].1,
        "environment variable QDRANT_OTEL_POLL__INTERVAL"
    );
    let settings = Case::new()
        .env("QDRANT_OTEL_CLUSTER__NAME", "\"é\\n\"")
        .load();
    assert_eq!(settings.cluster_name, "\"é\\n\"");
}

/// A node's identity can be set for an agent polling one node (a sidecar), and only then.
#[test]
fn a_sidecar_sets_its_node_identity() {
    let settings = Case::new()
        .env("QDRANT_URL", "http://localhost:6333")
        .env(
            "OTEL_RESOURCE_ATTRIBUTES",
            "service.instance.id=10.1.2.3:6333",
        )
        .load();
    assert_eq!(settings.nodes[0].instance, "10.1.2.3:6333");
    let settings = Case::new()
        .env(
            "OTEL_RESOURCE_ATTRIBUTES",
            "service.instance.id=10.1.2.3:6333",
        )
        .env("QDRANT_OTEL_QDRANT__INSTANCE", "qdrant-0:6333")
        .load();
    assert_eq!(
        settings.nodes[0].instance, "qdrant-0:6333",
        "the config key wins"
    );
    let case = Case::new()
        .env("QDRANT_URL", "http://a:6333,http://b:6333")
        .env("QDRANT_OTEL_QDRANT__INSTANCE", "pod:6333");
    assert_eq!(
        problems(&case.error()),
        vec![p(
            "qdrant.instance",
            "environment variable QDRANT_OTEL_QDRANT__INSTANCE",
            "sets one identity for 2 nodes; set it only when the agent polls one node (a sidecar)"
        )]
    );
}

/// Discovery: the keys from a file and from variables (the addresses as `host:port=url` pairs),
/// and what is wrong with them, each under its key and origin.
#[test]
fn discovery_keys_and_their_problems() {
    let settings = Case::new()
        .env("QDRANT_URL", "https://qdrant-0.qdrant-headless:6333")
        .env("QDRANT_OTEL_QDRANT__DISCOVERY__ENABLED", "true")
        .env("QDRANT_OTEL_QDRANT__DISCOVERY__REST_PORT", "7333")
        .env("QDRANT_OTEL_QDRANT__DISCOVERY__EVERY", "2m")
        .env(
            "QDRANT_OTEL_QDRANT__DISCOVERY__ADDRESSES",
            "10.0.0.1:6335=http://203.0.113.1:16333,10.0.0.2:6335=http://203.0.113.2:16333",
        )
        .load();
    let discovery = settings.discovery.expect("discovery is on");
    assert_eq!(discovery.rest_port, 7333);
    assert_eq!(discovery.every, Duration::from_secs(120));
    assert_eq!(
        discovery.addresses["10.0.0.2:6335"].as_str(),
        "http://203.0.113.2:16333/"
    );
    assert_eq!(
        discovery
            .rest_url("http://qdrant-1.qdrant-headless:6335/", "https")
            .unwrap()
            .as_str(),
        "https://qdrant-1.qdrant-headless:7333/"
    );
    assert!(Case::new().load().discovery.is_none(), "off by default");

    let case = Case::new().file(
        "agent.yaml",
        "qdrant:\n  instance: pod:6333\n  discovery:\n    enabled: true\n    rest_port: 0\n    every: 5s\n    addresses:\n      'a:6335': 'ftp://a'\npoll:\n  interval: 10s\n",
    );
    let file = format!("config file {}", case.path());
    assert_eq!(
        problems(&case.error()),
        vec![
            p(
                "qdrant.instance",
                &file,
                "sets one identity, but qdrant.discovery.enabled polls every peer of the cluster; set it only when the agent polls one node (a sidecar)"
            ),
            p("qdrant.discovery.rest_port", &file, "must be greater than 0"),
            p(
                "qdrant.discovery.addresses",
                &file,
                "a:6335: \"ftp://a\": scheme must be http or https, not \"ftp\""
            ),
            p(
                "qdrant.discovery.every",
                &file,
                "must be at least poll.interval (5s < 10s)"
            ),
        ]
    );
    let case = Case::new().env("QDRANT_OTEL_QDRANT__DISCOVERY__ADDRESSES", "a:6335");
    assert_eq!(
        problems(&case.error()),
        vec![p(
            "qdrant.discovery.addresses",
            "environment variable QDRANT_OTEL_QDRANT__DISCOVERY__ADDRESSES",
            "\"a:6335\" is not a `host:port=url` pair"
        )]
    );
}

#[test]
fn the_temporality_preference_comes_from_its_key_then_the_standard_variable() {
    assert_eq!(
        Case::new().load().otlp.temporality_preference,
        TemporalityPreference::Cumulative,
        "the default"
    );
    let settings = Case::new()
        .env("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", "Delta")
        .load();
    assert_eq!(
        settings.otlp.temporality_preference,
        TemporalityPreference::Delta
    );
    let settings = Case::new()
        .env("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", "delta")
        .file("agent.yaml", "otlp:\n  temporality_preference: lowmemory\n")
        .load();
    assert_eq!(
        settings.otlp.temporality_preference,
        TemporalityPreference::LowMemory,
        "the key wins"
    );
    let case = Case::new().env(
        "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE",
        "deltas",
    );
    assert_eq!(
        problems(&case.error()),
        vec![p(
            "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE",
            "environment variable OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE",
            "\"deltas\" is not supported: use cumulative, delta or lowmemory"
        )]
    );
}

#[test]
fn a_secret_never_shows() {
    let secret = config::Secret::new("s3cret");
    assert_eq!(format!("{secret:?}"), "<redacted>");
    assert_eq!(serde_json::to_string(&secret).unwrap(), "\"<redacted>\"");
    assert_eq!(secret.expose(), "s3cret");
}
