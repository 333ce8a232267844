//! `[edits]`: whether revised releases' sent messages are edited, and how
//! long the ids of sent messages are kept for it.

use crate::config::defaults::{DEFAULT_EDIT_WINDOW_HOURS, MAX_EDIT_WINDOW_HOURS};
use crate::config::raw::RawEdits;
use crate::config::{ConfigError, EditsConfig, invalid};

/// `[edits]` checked: a window of 1 to [`MAX_EDIT_WINDOW_HOURS`] hours.
pub(super) fn edits_from_raw(raw: RawEdits) -> Result<EditsConfig, ConfigError> {
    let window_hours = raw.window_hours.unwrap_or(DEFAULT_EDIT_WINDOW_HOURS);
    if !(1..=MAX_EDIT_WINDOW_HOURS).contains(&window_hours) {
        return Err(invalid(
            "edits.window_hours",
            format!("must be between 1 and {MAX_EDIT_WINDOW_HOURS} (hours)"),
        ));
    }
    Ok(EditsConfig {
        enabled: raw.enabled.unwrap_or(true),
        window_hours,
    })
}

#[cfg(test)]
mod tests {
    use crate::config::{Config, ConfigError, EditsConfig};

    #[test]
    fn edits_default_on_for_two_days_and_a_window_out_of_range_is_refused_by_its_key() {
        let default = Config::from_toml("").unwrap();
        assert_eq!(default.edits, EditsConfig::default());
        assert_eq!(
            default.edits.window(),
            Some(std::time::Duration::from_secs(48 * 3_600))
        );
        assert!(default.sources.iter().all(|s| s.edit_revisions));
        let off = Config::from_toml("[edits]\nenabled = false\n").unwrap();
        assert_eq!(off.edits.window(), None);
        assert!(off.sources.iter().all(|s| !s.edit_revisions));
        for bad in ["0", "721"] {
            match Config::from_toml(&format!("[edits]\nwindow_hours = {bad}\n")) {
                Err(e @ ConfigError::Invalid { .. }) => {
                    assert!(e.to_string().contains("edits.window_hours"), "{e}")
                }
                other => panic!("expected an invalid key, got {other:?}"),
            }
        }
    }
}
