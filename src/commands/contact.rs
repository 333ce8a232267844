//! `/contact`: consular phone and e-mail as the live page last showed them,
//! with the configured values as fallback (contacts change over the years).

use chrono::{DateTime, Utc};

use crate::config::ContactConfig;
use crate::render::escape;
use crate::source::Contacts;

/// The contact reply; `live` is what the page showed and when it was read.
pub fn reply(live: Option<(Contacts, DateTime<Utc>)>, fallback: &ContactConfig) -> String {
    let (contacts, read_at) = match live {
        Some((contacts, at)) => (contacts, Some(at)),
        None => (Contacts::default(), None),
    };
    let phone = contacts.phone.as_deref().unwrap_or(&fallback.phone);
    let email = contacts.email.as_deref().unwrap_or(&fallback.email);
    let source = match read_at {
        Some(at) if contacts.phone.is_some() && contacts.email.is_some() => {
            format!(
                "As shown on the site, read {}.",
                at.format("%-d %B %Y %H:%M UTC")
            )
        }
        Some(at) if !contacts.is_empty() => format!(
            "Partly as shown on the site (read {}), the rest from the bot's configuration.",
            at.format("%-d %B %Y %H:%M UTC")
        ),
        _ => "From the bot's configuration: the site has not been read yet.".to_string(),
    };
    format!(
        "<b>Consular queries</b>\nPhone: {}\nE-mail: {}\n<i>{}</i>",
        escape(phone),
        escape(email),
        source
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fallback() -> ContactConfig {
        ContactConfig {
            phone: "+44 1".into(),
            email: "cfg@example.org".into(),
        }
    }

    #[test]
    fn live_values_win_and_say_when() {
        let at = DateTime::from_timestamp(1_653_124_560, 0).unwrap();
        let live = Contacts {
            phone: Some("+44 (0) 203 161 8868".into()),
            email: Some("info@rusemb.org.uk".into()),
        };
        let text = reply(Some((live, at)), &fallback());
        assert!(text.contains("Phone: +44 (0) 203 161 8868"), "{text}");
        assert!(text.contains("E-mail: info@rusemb.org.uk"), "{text}");
        assert!(text.contains("read 21 May 2022 09:16 UTC"), "{text}");
    }

    #[test]
    fn falls_back_per_field() {
        let text = reply(None, &fallback());
        assert!(
            text.contains("Phone: +44 1") && text.contains("cfg@example.org"),
            "{text}"
        );
        assert!(text.contains("configuration"), "{text}");
        let at = DateTime::from_timestamp(0, 0).unwrap();
        let half = Contacts {
            phone: Some("+7 495".into()),
            email: None,
        };
        let text = reply(Some((half, at)), &fallback());
        assert!(
            text.contains("Phone: +7 495") && text.contains("cfg@example.org"),
            "{text}"
        );
        assert!(text.contains("Partly"), "{text}");
    }
}
