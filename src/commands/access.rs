//! Who may change a chat's subscription: anyone in a private chat; in a
//! group or supergroup its creator and administrators (`groups.who_can_subscribe
//! = "admins"`, the default) or every member (`"anyone"`); in a channel,
//! whoever posts (only administrators can), and of those who press a button
//! under the bot's post (any reader can), its administrators only. An
//! anonymous administrator posts as the group itself (`sender_chat` is the
//! chat), and counts as one.
//!
//! A channel named in a private chat (`/unsubscribe @channel`, `/filter
//! @channel …`) is its administrators' to change, checked the same way
//! ([`Access::administers`]).
//!
//! Member status comes from `getChatMember`, cached for [`MEMBER_TTL`] so a
//! busy group does not cost a request per command; a refusal is said at most
//! once per [`REFUSAL_EVERY`] per chat, so a crowd cannot make the bot spam.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::time::Instant;

use super::Origin;
use super::reply::Refusal;
use crate::config::WhoCanSubscribe;
use crate::runtime::ttl::TtlMap;
use crate::telegram::lookup::{ChatKind, ChatRef, Lookup, LookupError, MemberStatus};

/// How long a member's status is trusted.
pub(crate) const MEMBER_TTL: Duration = Duration::from_secs(60);
/// A chat hears "only administrators ..." at most this often.
pub(crate) const REFUSAL_EVERY: Duration = Duration::from_secs(60);
/// Entries kept in each table (members, refusals); the oldest go first.
const TABLE_SIZE: usize = 10_000;

/// The answer to "may this sender change this chat's subscription?".
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    Allowed,
    /// No; `tell` is false when the chat was told less than a minute ago.
    Refused {
        tell: bool,
    },
    /// Telegram could not be asked.
    Unknown(LookupError),
}

/// Permission checks with their caches; shared by every command.
pub(crate) struct Access {
    lookup: Arc<dyn Lookup>,
    who: WhoCanSubscribe,
    members: Mutex<TtlMap<(i64, i64), MemberStatus>>,
    refused: Mutex<TtlMap<i64, ()>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Caches: whatever a panicked holder left is still usable.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Access {
    pub(crate) fn new(lookup: Arc<dyn Lookup>, who: WhoCanSubscribe) -> Access {
        Access {
            lookup,
            who,
            members: Mutex::new(TtlMap::new(MEMBER_TTL, TABLE_SIZE)),
            refused: Mutex::new(TtlMap::new(REFUSAL_EVERY, TABLE_SIZE)),
        }
    }

    /// What commands ask of Telegram.
    pub(crate) fn lookup(&self) -> &dyn Lookup {
        &*self.lookup
    }

    /// Who may change a group's subscription, as configured.
    pub(crate) fn who(&self) -> WhoCanSubscribe {
        self.who
    }

    /// Whether the sender of `origin` may change its chat's subscription.
    pub(crate) async fn may_change(&self, origin: &Origin) -> Verdict {
        let allowed = match origin.kind {
            ChatKind::Private => true,
            // A post has no sender; a button press has its reader.
            ChatKind::Channel => match origin.user {
                None => true,
                Some(user) => match self.member(origin.chat, user).await {
                    Ok(status) => status.is_admin(),
                    Err(e) => return Verdict::Unknown(e),
                },
            },
            ChatKind::Group | ChatKind::Supergroup => {
                if self.who == WhoCanSubscribe::Anyone || origin.anonymous_admin {
                    true
                } else if let Some(user) = origin.user {
                    match self.member(origin.chat, user).await {
                        Ok(status) => status.is_admin(),
                        Err(e) => return Verdict::Unknown(e),
                    }
                } else {
                    // Sent on behalf of another chat (a channel): not an admin.
                    false
                }
            }
        };
        if allowed {
            return Verdict::Allowed;
        }
        let now = Instant::now();
        let mut refused = lock(&self.refused);
        let tell = refused.get(&origin.chat, now).is_none();
        if tell {
            refused.insert(origin.chat, (), now);
        }
        Verdict::Refused { tell }
    }

    /// `Ok` when the sender of `origin` may change its chat's subscription
    /// and settings ([`Access::may_change`]); else the refusal to say.
    pub(crate) async fn permit(&self, origin: &Origin) -> Result<(), Refusal> {
        match self.may_change(origin).await {
            Verdict::Allowed => Ok(()),
            Verdict::Refused { tell } => Err(Refusal::AdminsOnly { tell }),
            Verdict::Unknown(e) => {
                tracing::warn!(chat = origin.chat, error = %e, "cannot check a sender's rights");
                Err(Refusal::RightsUnknown)
            }
        }
    }

    /// Whether `user` administers channel `chat`, as Telegram says: asked
    /// before every change to a channel made from a private chat (a person
    /// who left its administrators has no say from then on), cached for
    /// [`MEMBER_TTL`] as a group's members are.
    pub(crate) async fn administers(&self, chat: i64, user: i64) -> Result<bool, LookupError> {
        Ok(self.member(chat, user).await?.is_admin())
    }

    /// `user`'s status in `chat`, cached for [`MEMBER_TTL`].
    async fn member(&self, chat: i64, user: i64) -> Result<MemberStatus, LookupError> {
        if let Some(status) = lock(&self.members).get(&(chat, user), Instant::now()) {
            return Ok(*status);
        }
        let status = self.lookup.member(ChatRef::Id(chat), user).await?;
        lock(&self.members).insert((chat, user), status, Instant::now());
        Ok(status)
    }

    /// The bot was removed from `chat`, or its members changed: ask again.
    pub(crate) fn forget_chat(&self, chat: i64) {
        // Rare, and the table is bounded: a linear pass is fine.
        lock(&self.members).retain(|(c, _)| *c != chat);
    }
}
