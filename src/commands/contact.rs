//! `/contact`: consular phone and e-mail as the live page last showed them,
//! with the configured values as fallback (contacts change over the years).

use chrono::{DateTime, Utc};

use crate::config::ContactConfig;
use crate::config::Language;
use crate::source::Contacts;
use crate::text::markup::escape;
use crate::tr;

/// An instant for people, in UTC: "21 May 2022 09:16 UTC".
pub(crate) fn utc_instant(at: DateTime<Utc>, lang: Language) -> String {
    tr!(
        lang,
        "date-time-utc",
        date = crate::text::i18n::date(lang, at.date_naive()),
        time = at.format("%H:%M").to_string()
    )
}

/// The contact reply in `lang`; `live` is what the page showed and when it was read.
pub(crate) fn reply(
    live: Option<(Contacts, DateTime<Utc>)>,
    fallback: &ContactConfig,
    lang: Language,
) -> String {
    let (contacts, read_at) = match live {
        Some((contacts, at)) => (contacts, Some(at)),
        None => (Contacts::default(), None),
    };
    let phone = contacts.phone.as_deref().unwrap_or(&fallback.phone);
    let email = contacts.email.as_deref().unwrap_or(&fallback.email);
    let source = match read_at {
        Some(at) if contacts.phone.is_some() && contacts.email.is_some() => {
            tr!(lang, "contact-live", when = utc_instant(at, lang))
        }
        Some(at) if !contacts.is_empty() => {
            tr!(lang, "contact-partly", when = utc_instant(at, lang))
        }
        _ => tr!(lang, "contact-config"),
    };
    tr!(
        lang,
        "contact-reply",
        phone = escape(phone),
        email = escape(email),
        source = source
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
        let text = reply(Some((live.clone(), at)), &fallback(), Language::En);
        assert!(text.contains("read 21 May 2022 09:16 UTC"), "{text}");
        let ru = reply(Some((live, at)), &fallback(), Language::Ru);
        assert!(ru.contains("Телефон: +44 (0) 203 161 8868"), "{ru}");
        assert!(ru.contains("прочитано 21 мая 2022 г., 09:16 UTC"), "{ru}");
        assert!(text.contains("Phone: +44 (0) 203 161 8868"), "{text}");
        assert!(text.contains("E-mail: info@rusemb.org.uk"), "{text}");
        assert!(text.contains("read 21 May 2022 09:16 UTC"), "{text}");
    }

    #[test]
    fn falls_back_per_field() {
        let text = reply(None, &fallback(), Language::En);
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
        let text = reply(Some((half, at)), &fallback(), Language::En);
        assert!(
            text.contains("Phone: +7 495") && text.contains("cfg@example.org"),
            "{text}"
        );
        assert!(text.contains("Partly"), "{text}");
    }
}
