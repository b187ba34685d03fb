//! The compiled site (wasm, JavaScript, CSS and `public/` files), built into the binary.
//!
//! A release binary carries every file of `target/site` as `cargo leptos build --release`
//! left it, with the `.br` and `.gz` copies its `precompress` option writes, so deploying is
//! copying one file. A debug binary reads the same folder from disk instead, so
//! `cargo leptos watch` serves fresh builds.
//!
//! The hydration files are served under `/pkg/{version}/`, where the version is a hash of
//! their content, with a one-year immutable cache lifetime: a new build gets new URLs.
//! Everything else is revalidated with an `ETag` on every use.

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, Method, Response, StatusCode};
use rust_embed::Embed;
use sha2::{Digest, Sha256};

#[derive(Embed)]
#[folder = "../target/site/"]
#[allow_missing = true]
struct Site;

/// Folder of the hydration files inside the site.
const PKG_DIR: &str = "pkg";

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const REVALIDATE: &str = "no-cache";

/// The site's files and the content version of its hydration files.
#[derive(Clone, Debug)]
pub struct SiteAssets {
    version: String,
}

impl SiteAssets {
    /// Hashes the hydration files; an empty site (a server built before the front end) gets
    /// the version `none` and serves nothing.
    pub fn load() -> Self {
        let mut names: Vec<String> = Site::iter()
            .filter(|name| name.starts_with("pkg/"))
            .map(|name| name.into_owned())
            .collect();
        names.sort();
        let mut hasher = Sha256::new();
        for name in &names {
            if let Some(file) = Site::get(name) {
                hasher.update(name.as_bytes());
                hasher.update(file.metadata.sha256_hash());
            }
        }
        let version = if names.is_empty() {
            tracing::warn!("the binary has no site files; build it with `cargo leptos build`");
            "none".to_owned()
        } else {
            hasher
                .finalize()
                .iter()
                .take(6)
                .map(|byte| format!("{byte:02x}"))
                .collect()
        };
        Self { version }
    }

    /// Returns the folder the pages load hydration files from, relative to the site root:
    /// `pkg/{version}`. It goes into Leptos' `site_pkg_dir`.
    pub fn versioned_pkg_dir(&self) -> String {
        format!("{PKG_DIR}/{}", self.version)
    }

    /// Builds the response for a site file, or returns `None` when the path names none.
    pub fn serve(
        &self,
        method: &Method,
        path: &str,
        headers: &HeaderMap,
    ) -> Option<Response<Body>> {
        if method != Method::GET && method != Method::HEAD {
            return None;
        }
        let path = path.trim_start_matches('/');
        let versioned_prefix = format!("{}/", self.versioned_pkg_dir());
        // A debug build reads files that `cargo leptos watch` rewrites under the same
        // version, so it never lets a browser cache them without revalidating.
        let versioned_cache = if cfg!(debug_assertions) {
            REVALIDATE
        } else {
            IMMUTABLE
        };
        let (name, cache_control) = match path.strip_prefix(&versioned_prefix) {
            Some(rest) => (format!("{PKG_DIR}/{rest}"), versioned_cache),
            None => (path.to_owned(), REVALIDATE),
        };
        if name.is_empty() || name.ends_with(".br") || name.ends_with(".gz") {
            return None;
        }
        let file = Site::get(&name)?;
        let etag = format!(
            "\"{}\"",
            file.metadata
                .sha256_hash()
                .iter()
                .take(16)
                .map(|byte| format!("{byte:02x}"))
                .collect::<String>()
        );

        let mut response = Response::builder()
            .header(header::CONTENT_TYPE, content_type(&name))
            .header(header::CACHE_CONTROL, cache_control)
            .header(header::ETAG, &etag)
            .header(header::VARY, "accept-encoding");
        let not_modified = headers
            .get(header::IF_NONE_MATCH)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|tags| tags.split(',').any(|tag| tag.trim() == etag));
        if not_modified {
            return response
                .status(StatusCode::NOT_MODIFIED)
                .body(Body::empty())
                .ok();
        }

        // Prefer a precompressed copy the client accepts. A debug build reads the folder
        // from disk, where copies left by an earlier release build may be stale.
        let use_precompressed = cfg!(not(debug_assertions));
        let accepted = headers
            .get(header::ACCEPT_ENCODING)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default();
        let mut body = file.data;
        for (encoding, suffix) in [("br", ".br"), ("gzip", ".gz")] {
            if use_precompressed && accepts(accepted, encoding) {
                if let Some(compressed) = Site::get(&format!("{name}{suffix}")) {
                    body = compressed.data;
                    response = response
                        .header(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
                    break;
                }
            }
        }
        let body = if method == Method::HEAD {
            Body::empty()
        } else {
            Body::from(body.into_owned())
        };
        response.body(body).ok()
    }
}

/// Returns whether `accept_encoding` lists `encoding` without `q=0`.
fn accepts(accept_encoding: &str, encoding: &str) -> bool {
    accept_encoding.split(',').any(|item| {
        let mut parts = item.split(';').map(str::trim);
        let name_matches = parts
            .next()
            .is_some_and(|name| name.eq_ignore_ascii_case(encoding));
        let refused = parts.any(|parameter| {
            matches!(
                parameter.replace(' ', "").as_str(),
                "q=0" | "q=0.0" | "q=0.00" | "q=0.000"
            )
        });
        name_matches && !refused
    })
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next().unwrap_or_default() {
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "wasm" => "application/wasm",
        "css" => "text/css; charset=utf-8",
        "html" => "text/html; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "json" => "application/json",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_encoding_parsing() {
        assert!(accepts("gzip, deflate, br", "br"));
        assert!(accepts("br;q=1.0, gzip;q=0.5", "gzip"));
        assert!(!accepts("gzip;q=0, br", "gzip"));
        assert!(!accepts("identity", "br"));
        assert!(accepts("BR", "br"));
    }

    #[test]
    fn content_types_by_extension() {
        assert_eq!(content_type("pkg/stepup-app.wasm"), "application/wasm");
        assert_eq!(
            content_type("pkg/stepup-app.js"),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(content_type("favicon.svg"), "image/svg+xml");
        assert_eq!(content_type("noextension"), "application/octet-stream");
    }
}
