//! `[store]`: how much memory the database may keep for its pages; and
//! `[full_text]`: how much of each release's own page it keeps, read how often.

use std::time::Duration;

use crate::config::defaults::{
    DEFAULT_STORE_CACHE_MB, MAX_FULL_TEXT_BACKLOG, MAX_MAX_BODY_BYTES, MAX_STORE_CACHE_MB,
};
use crate::config::raw::{RawFullText, RawStore};
use crate::config::{ConfigError, FullTextConfig, StoreConfig, invalid};

/// `[full_text]` checked: a body of 1 KiB to [`MAX_MAX_BODY_BYTES`], a delay
/// of at most an hour, 1 to 100 attempts, a backlog of 1 to [`MAX_FULL_TEXT_BACKLOG`].
pub(super) fn full_text_from_raw(raw: RawFullText) -> Result<FullTextConfig, ConfigError> {
    let default = FullTextConfig::default();
    let max_body_bytes = raw.max_body_bytes.unwrap_or(default.max_body_bytes);
    if !(1024..=MAX_MAX_BODY_BYTES).contains(&max_body_bytes) {
        return Err(invalid(
            "full_text.max_body_bytes",
            format!("must be between 1024 and {MAX_MAX_BODY_BYTES}"),
        ));
    }
    let delay_secs = raw.delay_secs.unwrap_or(default.delay.as_secs());
    if delay_secs > 3_600 {
        return Err(invalid("full_text.delay_secs", "must be at most 3600"));
    }
    let max_attempts = raw.max_attempts.unwrap_or(default.max_attempts);
    if !(1..=100).contains(&max_attempts) {
        return Err(invalid(
            "full_text.max_attempts",
            "must be between 1 and 100",
        ));
    }
    let backlog = raw.backlog.unwrap_or(default.backlog);
    if !(1..=MAX_FULL_TEXT_BACKLOG).contains(&backlog) {
        return Err(invalid(
            "full_text.backlog",
            format!("must be between 1 and {MAX_FULL_TEXT_BACKLOG}"),
        ));
    }
    Ok(FullTextConfig {
        enabled: raw.enabled.unwrap_or(default.enabled),
        max_body_bytes,
        delay: Duration::from_secs(delay_secs),
        max_attempts,
        backlog,
    })
}

/// `[store]` checked: a cache of 1 MiB to [`MAX_STORE_CACHE_MB`].
pub(super) fn store_from_raw(raw: RawStore) -> Result<StoreConfig, ConfigError> {
    let cache_mb = raw.cache_mb.unwrap_or(DEFAULT_STORE_CACHE_MB);
    if !(1..=MAX_STORE_CACHE_MB).contains(&cache_mb) {
        return Err(invalid(
            "store.cache_mb",
            format!("must be between 1 and {MAX_STORE_CACHE_MB} (MiB)"),
        ));
    }
    Ok(StoreConfig { cache_mb })
}

#[cfg(test)]
mod tests {
    use crate::config::{Config, ConfigError, StoreConfig};

    /// The error for `toml`, which must be refused.
    fn refused(toml: &str) -> String {
        match Config::from_toml(toml) {
            Err(e @ ConfigError::Invalid { .. }) => e.to_string(),
            other => panic!("expected an invalid key, got {other:?}"),
        }
    }

    #[test]
    fn the_cache_defaults_to_the_measured_size_and_takes_the_file_s() {
        let default = Config::from_toml("").unwrap();
        assert_eq!(default.store, StoreConfig::default());
        let set = Config::from_toml("[store]\ncache_mb = 64\n").unwrap();
        assert_eq!(set.store.cache_mb, 64);
    }

    #[test]
    fn a_cache_out_of_range_is_refused_by_its_key() {
        for bad in ["0", "1025"] {
            let error = refused(&format!("[store]\ncache_mb = {bad}\n"));
            assert!(error.contains("store.cache_mb"), "{error}");
        }
        assert!(Config::from_toml("[store]\ncache_mb = 1\n").is_ok());
        assert!(Config::from_toml("[store]\ncache_mb = 1024\n").is_ok());
    }

    #[test]
    fn full_text_has_defaults_and_refuses_what_is_out_of_range() {
        let default = Config::from_toml("").unwrap();
        assert!(default.full_text.enabled);
        assert_eq!(default.full_text.max_body_bytes, 64 * 1024);
        let set = Config::from_toml("[full_text]\nenabled = false\ndelay_secs = 0\n").unwrap();
        assert!(!set.full_text.enabled);
        assert!(set.full_text.delay.is_zero());
        for (key, bad) in [
            ("max_body_bytes", "10"),
            ("delay_secs", "7200"),
            ("max_attempts", "0"),
            ("backlog", "0"),
        ] {
            let error = refused(&format!("[full_text]\n{key} = {bad}\n"));
            assert!(error.contains(&format!("full_text.{key}")), "{error}");
        }
    }
}
