//! URL checks shared by `qdrant.url`, `otlp.endpoint` and the `OTEL_EXPORTER_OTLP_*ENDPOINT`
//! variables: an absolute http(s) URL with a host.

use url::Url;

/// An absolute http(s) URL with a host; returns it with the host and the (default) port.
pub fn parse_http_url(text: &str) -> Result<(Url, String, u16), String> {
    let url = Url::parse(text.trim()).map_err(|e| format!("not a valid URL ({e})"))?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(format!(
            "scheme must be http or https, not {:?}",
            url.scheme()
        ));
    }
    let host = url.host_str().ok_or("the URL has no host")?.to_string();
    let port = url.port_or_known_default().ok_or("the URL has no port")?;
    Ok((url, host, port))
}

/// An OTLP/HTTP base URL with the metrics path appended, unless it already ends with it.
pub fn with_metrics_path(url: &Url) -> String {
    if url.path().ends_with("/v1/metrics") {
        url.as_str().to_string()
    } else {
        format!("{}/v1/metrics", url.as_str().trim_end_matches('/'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_path_is_appended_once() {
        for (given, expected) in [
            ("http://c:4318", "http://c:4318/v1/metrics"),
            ("http://c:4318/", "http://c:4318/v1/metrics"),
            ("http://c:4318/otlp", "http://c:4318/otlp/v1/metrics"),
            ("http://c:4318/v1/metrics", "http://c:4318/v1/metrics"),
        ] {
            let (url, _, _) = parse_http_url(given).unwrap();
            assert_eq!(with_metrics_path(&url), expected, "{given}");
        }
    }

    #[test]
    fn rejects_other_schemes_and_relative_urls() {
        assert_eq!(
            parse_http_url("ftp://x").unwrap_err(),
            "scheme must be http or https, not \"ftp\""
        );
        assert_eq!(
            parse_http_url("not a url").unwrap_err(),
            "not a valid URL (relative URL without a base)"
        );
    }
}
