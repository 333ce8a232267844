//! Who may do what: the operators (`admin_chats`, `admin_users`), who may
//! change a group's subscription (`[groups]`), and how many commands one
//! person may send (`[commands]`).

use crate::config::defaults::DEFAULT_COMMANDS_PER_USER_PER_MINUTE;
use crate::config::raw::{RawCommands, RawGroups};
use crate::config::{ConfigError, GroupsConfig, WhoCanSubscribe, invalid};

/// The operators: the user ids of `admin_chats` and `admin_users` together,
/// each once. People only: a group's members are not all operators.
pub(super) fn operators(
    admin_chats: Option<&[i64]>,
    admin_users: Option<&[i64]>,
) -> Result<Vec<i64>, ConfigError> {
    let mut operators = Vec::new();
    for (key, ids) in [("admin_chats", admin_chats), ("admin_users", admin_users)] {
        for (i, id) in ids.into_iter().flatten().enumerate() {
            if *id <= 0 {
                return Err(invalid(
                    format!("{key}[{i}]"),
                    format!(
                        "{id} is a group or channel id; operators are people: list their user ids (in a private chat with the bot, the chat id is the user id)"
                    ),
                ));
            }
            if !operators.contains(id) {
                operators.push(*id);
            }
        }
    }
    Ok(operators)
}

/// `[groups]`: only a group's admins may change its subscription unless the
/// file lets anyone.
pub(super) fn groups_from_raw(groups: Option<RawGroups>) -> GroupsConfig {
    GroupsConfig {
        who_can_subscribe: groups
            .and_then(|g| g.who_can_subscribe)
            .unwrap_or(WhoCanSubscribe::Admins),
    }
}

/// `commands.per_user_per_minute`: one person's command budget, over all chats.
pub(super) fn commands_per_user_per_minute(
    commands: Option<RawCommands>,
) -> Result<u32, ConfigError> {
    let per_minute = commands
        .and_then(|c| c.per_user_per_minute)
        .unwrap_or(DEFAULT_COMMANDS_PER_USER_PER_MINUTE);
    if !(1..=10_000).contains(&per_minute) {
        return Err(invalid(
            "commands.per_user_per_minute",
            "must be between 1 and 10000",
        ));
    }
    Ok(per_minute)
}
