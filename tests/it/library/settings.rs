//! What a chat chose, in-process: quiet hours, filters and digests against a
//! recording messenger in paused time (`paused`), and the settings kept in the
//! store and applied by the walk (`kept`). The same rules with the real binary
//! are in `process/settings.rs`.

// ---- delivery against a recording messenger, in paused time -------------------

mod paused {
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use chrono::{DateTime, NaiveDate, Utc};
    use embassy_bot::Clock;
    use embassy_bot::Delivery;
    use embassy_bot::Item;
    use embassy_bot::Limiter;
    use embassy_bot::Shutdown;
    use embassy_bot::testing::text::markup::{MAX_MESSAGE_UTF16, utf16_len};
    use embassy_bot::{Filter, parse_time};
    use embassy_bot::{Format, Messenger, SendError};
    use embassy_bot::{Store, Target};
    use tokio::time::Instant;

    use crate::support::poll;

    /// Every message sent: to whom, what, and when (tokio's paused clock).
    #[derive(Clone, Default)]
    struct Recorder {
        sent: Arc<Mutex<Vec<(Target, String, Instant)>>>,
        /// Refuse every digest sent as HTML, as Telegram does HTML it
        /// cannot parse.
        refuse_digest_html: bool,
    }

    impl Recorder {
        fn to(&self, target: impl Into<Target>) -> Vec<(String, Instant)> {
            let target = target.into();
            self.sent
                .lock()
                .unwrap()
                .iter()
                .filter(|(t, _, _)| *t == target)
                .map(|(_, text, at)| (text.clone(), *at))
                .collect()
        }
    }

    impl Messenger for Recorder {
        async fn send(
            &self,
            chat: i64,
            thread: Option<i32>,
            text: String,
            format: Format,
        ) -> Result<(), SendError> {
            if self.refuse_digest_html && format == Format::Html && text.starts_with("🗞") {
                return Err(SendError::Rejected(
                    "Bad Request: can't parse entities: unsupported start tag".into(),
                ));
            }
            let target = Target { chat, thread };
            self.sent
                .lock()
                .unwrap()
                .push((target, text, Instant::now()));
            Ok(())
        }
    }

    fn item(n: u32) -> Item {
        let parity = if n.is_multiple_of(2) { "even" } else { "odd" };
        Item {
            id: format!("site/fnapr/{n}"),
            url: format!("https://site/fnapr/{n}"),
            // Long enough that 30 of them cannot share one message.
            title: format!("Release {n} {parity}: {}", "a long title ".repeat(12)),
            date: NaiveDate::from_ymd_opt(2023, 6, 10),
            lead: "A lead that runs on. ".repeat(20),
        }
    }

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn held_pushes_go_when_the_quiet_hours_end_as_one_digest_split_at_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        // 06:58 BST: two minutes of quiet left.
        let clock = Clock::starting_at(utc("2023-06-11T05:58:00Z"));
        let now = clock.now();
        poll(&store, "s", &[item(0)], now).await;
        let (sleeper, picky, control) = (1, 2, 3);
        for chat in [sleeper, picky, control] {
            store.subscribe(chat, None, now).await.unwrap();
        }
        let quiet = embassy_bot::QuietHours {
            from: parse_time("23:00").unwrap(),
            to: parse_time("07:00").unwrap(),
            zone: chrono_tz::Europe::London,
        };
        for chat in [sleeper, picky] {
            store
                .change_settings(Target::from(chat), |s| s.quiet = Some(quiet))
                .await
                .unwrap();
        }
        let items: Vec<Item> = (0..=30).rev().map(item).collect();
        assert_eq!(poll(&store, "s", &items, now).await.queued, 30);

        let recorder = Recorder::default();
        let (_wake, trigger, worker) = deliver(&store, &recorder, clock);
        while recorder.to(control).len() < 30 {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // Journaled with the old filters; the new ones decide when it is sent.
        store
            .change_settings(Target::from(picky), |s| {
                s.filters.push(Filter::parse("-even").unwrap())
            })
            .await
            .unwrap();
        let end = clock.instant_at(utc("2023-06-11T06:00:00Z"));
        tokio::time::sleep_until(end - Duration::from_secs(1)).await;
        assert!(recorder.to(sleeper).is_empty() && recorder.to(picky).is_empty());
        tokio::time::sleep(Duration::from_secs(2)).await;

        let parts = recorder.to(sleeper);
        assert!(
            parts.len() > 1 && parts.len() < 30,
            "{} messages",
            parts.len()
        );
        let mut next = 1;
        for (i, (text, at)) in parts.iter().enumerate() {
            assert!(*at >= end, "not before the hours end");
            assert!(utf16_len(text) <= MAX_MESSAGE_UTF16);
            assert!(text.starts_with(&format!(
                "🗞 During the quiet hours: 30 new releases ({}/{})",
                i + 1,
                parts.len()
            )));
            // Oldest first, across the parts, none twice, none left out.
            for block in text.split("\n\n").skip(1) {
                assert!(
                    block.contains(&format!("Release {next} ")),
                    "{next}: {block}"
                );
                next += 1;
            }
        }
        assert_eq!(next, 31);
        let picked = recorder.to(picky);
        let all: String = picked.iter().map(|(t, _)| t.as_str()).collect();
        assert!(all.contains("15 new releases"), "{all}");
        assert!(all.contains("Release 29 odd") && !all.contains(" even:"));
        assert!(
            recorder
                .to(control)
                .iter()
                .all(|(t, _)| t.starts_with("🆕"))
        );
        assert_eq!(store.journal_count(), 0, "every entry completed");
        trigger.trigger();
        worker.await.unwrap();
    }
    #[tokio::test(start_paused = true)]
    async fn a_digest_telegram_refuses_as_html_loses_none_of_its_releases() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        // 06:58 BST: two minutes of quiet left.
        let clock = Clock::starting_at(utc("2023-06-11T05:58:00Z"));
        let now = clock.now();
        poll(&store, "s", &[item(0)], now).await;
        let sleeper = 1;
        store.subscribe(sleeper, None, now).await.unwrap();
        let quiet = embassy_bot::QuietHours {
            from: parse_time("23:00").unwrap(),
            to: parse_time("07:00").unwrap(),
            zone: chrono_tz::Europe::London,
        };
        store
            .change_settings(Target::from(sleeper), |s| s.quiet = Some(quiet))
            .await
            .unwrap();
        let items: Vec<Item> = (0..=12).rev().map(item).collect();
        assert_eq!(poll(&store, "s", &items, now).await.queued, 12);

        let recorder = Recorder {
            refuse_digest_html: true,
            ..Recorder::default()
        };
        let (_wake, trigger, worker) = deliver(&store, &recorder, clock);
        let end = clock.instant_at(utc("2023-06-11T06:00:00Z"));
        tokio::time::sleep_until(end + Duration::from_secs(60)).await;

        let all: String = recorder
            .to(sleeper)
            .iter()
            .map(|(t, _)| t.as_str())
            .collect::<Vec<_>>()
            .join("\n");
        for n in 1..=12 {
            assert!(
                all.contains(&format!("Release {n} ")),
                "release {n} lost: {all}"
            );
        }
        assert_eq!(store.journal_count(), 0, "every entry completed");
        trigger.trigger();
        worker.await.unwrap();
    }

    /// Starts delivery on `store` with `clock`; the trigger stops it.
    fn deliver(
        store: &Store,
        recorder: &Recorder,
        clock: Clock,
    ) -> (
        Arc<tokio::sync::Notify>,
        embassy_bot::ShutdownTrigger,
        tokio::task::JoinHandle<()>,
    ) {
        let delivery = Delivery::new(
            store.clone(),
            recorder.clone(),
            Arc::new(Limiter::new(None)),
            4,
        )
        .with_clock(clock);
        let wake = Arc::new(tokio::sync::Notify::new());
        let (trigger, shutdown) = Shutdown::new();
        let worker = tokio::spawn(delivery.run(wake.clone(), shutdown));
        wake.notify_one();
        (wake, trigger, worker)
    }

    #[tokio::test(start_paused = true)]
    async fn a_quiet_topic_holds_its_own_pushes_and_never_its_neighbours() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        // 06:50 BST: ten minutes of quiet left.
        let clock = Clock::starting_at(utc("2023-06-11T05:50:00Z"));
        let now = clock.now();
        poll(&store, "s", &[item(0)], now).await;
        let forum = -1_001;
        let (quiet_topic, busy_topic) = (Target::topic(forum, 1), Target::topic(forum, 2));
        for topic in [quiet_topic, busy_topic] {
            store.subscribe(topic, None, now).await.unwrap();
        }
        let quiet = embassy_bot::QuietHours {
            from: parse_time("23:00").unwrap(),
            to: parse_time("07:00").unwrap(),
            zone: chrono_tz::Europe::London,
        };
        store
            .change_settings(quiet_topic, |s| s.quiet = Some(quiet))
            .await
            .unwrap();
        let recorder = Recorder::default();
        let (wake, trigger, worker) = deliver(&store, &recorder, clock);
        poll(&store, "s", &[item(1), item(0)], now).await;
        wake.notify_one();
        while recorder.to(busy_topic).is_empty() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // A minute later, the next release: the busy topic gets it at once,
        // though the chat holds the quiet topic's first.
        tokio::time::sleep(Duration::from_secs(60)).await;
        let second = Instant::now();
        poll(&store, "s", &[item(2), item(1), item(0)], now).await;
        wake.notify_one();
        while recorder.to(busy_topic).len() < 2 {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(recorder.to(busy_topic)[1].1 - second < Duration::from_secs(5));
        assert!(recorder.to(quiet_topic).is_empty());
        let end = clock.instant_at(utc("2023-06-11T06:00:00Z"));
        tokio::time::sleep_until(end + Duration::from_secs(1)).await;
        let digest = recorder.to(quiet_topic);
        assert_eq!(digest.len(), 1);
        assert!(
            digest[0]
                .0
                .starts_with("🗞 During the quiet hours: 2 new releases")
        );
        assert!(digest[0].1 >= end);
        trigger.trigger();
        worker.await.unwrap();
    }
}

// ---- the store and the walk ---------------------------------------------------

mod kept {
    use chrono::{NaiveDate, Utc};
    use embassy_bot::FanOut;
    use embassy_bot::Filter;
    use embassy_bot::Item;
    use embassy_bot::Language;
    use embassy_bot::{Removal, Store, Target};

    use crate::support::{fan_out_page, poll, reopen_store};

    fn item(n: u32, title: &str) -> Item {
        Item {
            id: format!("site/fnapr/{n}"),
            url: format!("https://site/fnapr/{n}"),
            title: title.into(),
            date: NaiveDate::from_ymd_opt(2023, 6, 10),
            lead: "Nothing in particular.".into(),
        }
    }

    async fn set(store: &Store, target: Target, filter: &str) {
        store
            .change_settings(target, |s| s.filters.push(Filter::parse(filter).unwrap()))
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn settings_outlive_an_unsubscribe_and_a_restart_but_not_a_chat_that_is_gone() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let now = Utc::now();
        let (stays, leaves, gone, forum) = (1, 2, 3, -1_009);
        for chat in [stays, leaves, gone, forum] {
            store.subscribe(chat, None, now).await.unwrap();
            set(&store, chat.into(), "visa").await;
        }
        store
            .subscribe(Target::topic(forum, 4), None, now)
            .await
            .unwrap();
        set(&store, Target::topic(forum, 4), "-visa").await;
        store
            .change_settings(stays.into(), |s| s.language = Some(Language::Ru))
            .await
            .unwrap();
        // A chat that never subscribed may still choose its language.
        store
            .change_settings(7.into(), |s| s.language = Some(Language::Ru))
            .await
            .unwrap();

        assert!(store.unsubscribe(leaves, None, &[]).await.unwrap());
        store.remove_chat(gone, Removal::ChatGone).await.unwrap();
        store
            .remove_target(Target::topic(forum, 4), Removal::ChatGone)
            .await
            .unwrap();
        drop(store);
        let store = reopen_store(dir.path());
        assert_eq!(store.language(stays).unwrap(), Some(Language::Ru));
        assert_eq!(store.language(7).unwrap(), Some(Language::Ru));
        assert_eq!(store.language(leaves).unwrap(), None);
        assert_eq!(
            store.settings(leaves.into()).unwrap().filters.len(),
            1,
            "kept"
        );
        assert!(
            store.settings(gone.into()).unwrap().is_empty(),
            "gone with it"
        );
        assert!(store.settings(Target::topic(forum, 4)).unwrap().is_empty());
        assert_eq!(store.settings(forum.into()).unwrap().filters.len(), 1);

        // A group that becomes a supergroup takes its settings along, even
        // when the supergroup was given a language of its own first (someone
        // sent /subscribe there before the bot saw the upgrade): what the
        // supergroup chose wins, the group's choices fill the rest.
        let supergroup = -1_001_009;
        store
            .change_settings(forum.into(), |s| s.language = Some(Language::Ru))
            .await
            .unwrap();
        store
            .change_settings(supergroup.into(), |s| {
                s.inferred_language = Some(Language::Ru);
                s.language = Some(Language::En);
            })
            .await
            .unwrap();
        FanOut::new(store.clone(), 1)
            .migrate_chat(forum, supergroup)
            .await
            .unwrap();
        assert!(store.chat_settings(forum).unwrap().targets.is_empty());
        let moved = store.settings(supergroup.into()).unwrap();
        assert_eq!(moved.filters.len(), 1, "the group's filter came along");
        assert_eq!(moved.language, Some(Language::En), "the supergroup's own");
        assert_eq!(moved.inferred_language, Some(Language::Ru));
        store
            .change_settings(supergroup.into(), |s| {
                s.language = None;
                s.inferred_language = None;
            })
            .await
            .unwrap();
        // Nothing chosen any more: no record.
        store
            .change_settings(supergroup.into(), |s| s.filters.clear())
            .await
            .unwrap();
        assert!(store.chat_settings(supergroup).unwrap().targets.is_empty());
    }

    #[tokio::test]
    async fn a_group_keeps_settings_for_at_most_max_topics_topics() {
        use embassy_bot::MAX_TOPICS;
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let forum = -1_007;
        for thread in 1..=MAX_TOPICS as i32 {
            let topic = Target::topic(forum, thread);
            assert!(store.may_keep_settings(topic).unwrap(), "{thread}");
            set(&store, topic, "visa").await;
        }
        let one_more = Target::topic(forum, MAX_TOPICS as i32 + 1);
        assert!(
            !store.may_keep_settings(one_more).unwrap(),
            "past the bound"
        );
        assert!(
            store.may_keep_settings(Target::topic(forum, 1)).unwrap(),
            "a topic that has settings may change them"
        );
        assert!(
            store.may_keep_settings(forum.into()).unwrap(),
            "the chat itself"
        );
        assert!(store.may_keep_settings(Target::topic(-1_008, 1)).unwrap());
        // A topic that lets go of its settings makes room.
        store
            .change_settings(Target::topic(forum, 1), |s| s.filters.clear())
            .await
            .unwrap();
        drop(store);
        let store = reopen_store(dir.path());
        assert!(store.may_keep_settings(one_more).unwrap());
    }

    #[tokio::test]
    async fn the_walk_passes_over_filtered_releases_and_journals_held_targets() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let now = Utc::now();
        poll(&store, "s", &[item(1, "Old")], now).await;
        let (wants, refuses, sleeps, plain) = (10, 20, 30, 40);
        for chat in [wants, refuses, sleeps, plain] {
            store.subscribe(chat, None, now).await.unwrap();
        }
        set(&store, wants.into(), "визы").await;
        set(&store, refuses.into(), "-визы").await;
        // Quiet all day but a minute: held whenever the test runs.
        let quiet = embassy_bot::QuietHours {
            from: now.time(),
            to: now.time() - chrono::Duration::minutes(1),
            zone: chrono_tz::UTC,
        };
        store
            .change_settings(sleeps.into(), |s| s.quiet = Some(quiet))
            .await
            .unwrap();
        poll(&store, "s", &[item(2, "Новые ВИЗЫ"), item(1, "Old")], now).await;

        let fan_out = FanOut::new(store.clone(), 1);
        let page = fan_out_page(&fan_out, 100, |_| false).await.unwrap();
        assert_eq!(page.chats, vec![wants, plain]);
        assert_eq!(page.journaled, 1, "the sleeper, for later");
        assert!(
            store.journal_for(refuses).unwrap().is_empty(),
            "no entry at all"
        );
        let held = store.journal_for(sleeps).unwrap();
        assert_eq!(held.len(), 1);
        assert!(
            held[0]
                .journaled_at
                .is_some_and(|at| (at - now.timestamp()).abs() < 60)
        );
    }
}
