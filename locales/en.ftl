# embassy-bot: English, the default. Every message here must also be in
# every other file of this folder, with the same arguments (a unit test in
# src/i18n.rs checks). Messages are Telegram HTML: arguments that hold text
# from outside come in escaped. `$place` names where a setting applies:
# "chat", "topic", "group" or "channel" (then `$name` is the channel).

## Shared words

date = { $day } { $month ->
    [1] January
    [2] February
    [3] March
    [4] April
    [5] May
    [6] June
    [7] July
    [8] August
    [9] September
    [10] October
    [11] November
   *[12] December
} { $year }
day-month = { $day } { $month ->
    [1] January
    [2] February
    [3] March
    [4] April
    [5] May
    [6] June
    [7] July
    [8] August
    [9] September
    [10] October
    [11] November
   *[12] December
}
date-time-utc = { $date } { $time } UTC
list-and = { $rest } and { $last }
quoted = “{ $text }”
days-word = { $days ->
    [one] day
   *[other] days
}
releases-count = { $count ->
    [one] { $count } release
   *[other] { $count } releases
}
never = never
sorry = Sorry, something went wrong on my side. Please try again later.
read-on-site = Read on the site
more-not-shown = ({ $count } more not shown: ask for fewer)

## The command menu (setMyCommands) and /help

menu-latest = Newest releases: /latest [n], n up to 20
menu-search = Find releases: /search words or "a phrase"
menu-subscribe = Get new releases: /subscribe [source], all by default
menu-unsubscribe = Stop them: /unsubscribe [source], all by default
menu-sources = Watched pages, what you get, last reads
menu-subscriptions = What this chat gets, and channels you subscribed
menu-filter = Only releases that mention a word: /filter add visa
menu-quiet = Quiet hours: /quiet 23:00-07:00 [time zone]
menu-digest = One message a day: /digest 09:00 [time zone]
menu-language = This chat's language: /language en or ru
menu-contact = Phone and e-mail as the site shows them
menu-time = { $date } date, { $clocks } time
menu-time-no-clocks = { $date } date
menu-counters = The site's day counters
menu-help = What this bot does

help-intro = I watch <b>{ $site }</b> and can send you every new release the moment it appears.
help-sources = Sources:
help-source = • { $label } ({ $name })
help-pick-one = /subscribe &lt;name&gt; gets one of them only.
help-groups-and-channels = In a group, an administrator sends /subscribe there (in a forum, inside the topic that should get the releases). For a channel you administer, add me there as an administrator allowed to post, then send /subscribe @channel here. /filter, /quiet, /digest and /language work the same way: in the chat or topic they are for, or here with the channel first (/quiet @channel 23:00-07:00).
help-command = /{ $name } — { $description }
welcome = Hello! I post every new release of <b>{ $site }</b> in the chats that subscribe. { $who ->
    [anyone] Anyone here
   *[admins] An administrator of this group
} can send /subscribe to get them here (in a forum, inside the topic that should get them). /help lists my commands.

## Reading commands

help-usage = Usage: /help
latest-usage = Usage: /latest [n], where n is a number from 1 to 20 (default 5).
sources-usage = Usage: /sources (no arguments)
subscriptions-usage = Usage: /subscriptions (no arguments)
time-usage = Usage: /time (no arguments)
counters-usage = Usage: /counters (no arguments)
contact-usage = Usage: /contact (no arguments)
status-usage = Usage: /status (no arguments)
unknown-command = I don't know /{ $name }. Send /help for the list of commands.
not-a-command = I answer commands only. Send /help to see them.
too-fast = Too many messages at once: I answer the first few and skip the rest. Please wait a moment.
over-budget = You have sent many commands in the last minute; I will answer again in a moment.
press-later = Too many at once: please wait a moment and press again.

latest-nothing-yet = No releases recorded yet: the site has not been read successfully. Try again in a few minutes.
latest-no-older = No older releases.
latest-one = <b>Latest release</b>
latest-many = <b>Latest { $count } releases</b>
latest-older = <b>Releases { $from }–{ $to }, newest first</b>

search-usage = Usage: /search &lt;words&gt;, for example /search visa London. A release is found when its title or lead has every word, at the start of a word (visa finds visas); "a phrase" in quotes matches as written, and -word leaves out releases that have it. At most 10 words and 200 characters.
search-nothing = Nothing found for <b>{ $query }</b>. Every word must be in the title or lead, and a word matches at its start (visa finds visas): try fewer or shorter words.
search-found = { $total ->
    [one] <b>1 release</b> for <b>{ $query }</b>
   *[other] <b>{ $total } releases</b> for <b>{ $query }</b>, newest first
}
search-first-of = { $shown } of { $total } shown. Add words to narrow the search.
search-range-of = { $from }–{ $to } of { $total } shown.
search-past-the-end = { $total ->
    [1] No more results: the only one was shown.
   *[other] No more results: all { $total } were shown.
}

counters-none = No counters are configured.

contact-reply =
    <b>Consular queries</b>
    Phone: { $phone }
    E-mail: { $email }
    <i>{ $source }</i>
contact-live = As shown on the site, read { $when }.
contact-partly = Partly as shown on the site (read { $when }), the rest from the bot's configuration.
contact-config = From the bot's configuration: the site has not been read yet.

## /sources, /subscriptions, /status

gets-nothing = nothing yet (/subscribe for every source)
gets-every = every source
sources-header =
    <b>Sources</b>
    You get: { $gets }
sources-subscribed = { $yes ->
    [yes] Subscribed: yes
   *[no] Subscribed: no
}
sources-pick-one = /subscribe &lt;name&gt; or /unsubscribe &lt;name&gt; picks one source.
sources-range = Sources { $from }–{ $to } of { $total }
sources-errors-header = <b>Sources failing now</b> (you asked /sources in a group, where no error is shown; these are for you alone)
source-last-good = Last good read: { $when }
source-count = Releases on the page then: { $count }
source-failing = Failing since { $when }
source-error = Last error: { $when } — { $error }
source-recovered = (read fine since)
source-fallback = Its configured extraction finds nothing since { $when }; the bot reads { $what }.

subscriptions-here = { $where ->
    [topic] This topic gets
    [private] You get
   *[chat] This chat gets
}: { $gets }
subscriptions-header = <b>Subscriptions</b>
subscriptions-topics = Topics subscribed on their own: { $count } (/subscriptions in a topic shows what it gets)
subscriptions-no-channels = Channels you subscribed: none. /subscribe @channel [source] subscribes a channel you administer (add me there as an administrator first).
subscriptions-channels = <b>Channels you subscribed</b>
subscriptions-unsubscribe-one = /unsubscribe @channel stops one.

status-refusal = /status is for the bot's operators (the admin_users setting).
status-report =
    <b>Status</b>
    Releases stored: { $items }
    Subscribers: { $subscribers }
    Pushes pending: { $pending }
    Releases still being fanned out: { $outbox }
    Chats removed (blocked, kicked, gone): { $removed }, pushes dropped with them: { $dropped }
    Pushes Telegram refused for good: { $given_up }
    Groups moved to a supergroup: { $migrated }
status-rate = Send rate now: { $rate } messages/s (at most { $max }; lowered when Telegram answers 429)
status-rate-off = Send rate: not limited (telegram.throttle = false)

## /subscribe and /unsubscribe

subscribe-usage = Usage: /subscribe for every source, or /subscribe &lt;name&gt; for one (/sources lists them). For a channel: /subscribe @channel [name], in a private chat with me.
unsubscribe-usage = Usage: /unsubscribe for every source, or /unsubscribe &lt;name&gt; for one (/sources lists them). For a channel: /unsubscribe @channel [name], in a private chat with me.
no-such-source = There is no source called “{ $name }”. The sources are: { $names }. /sources shows them.
admins-only = Only this group's administrators can change what it gets. /sources shows what it gets now.
rights-unknown = I could not check your rights in this chat (Telegram did not answer). Please try again in a minute.
lookup-unavailable = Telegram did not answer my question; please try again in a minute.
lookup-not-found = chat not found
lookup-refused = Telegram refused: { $reason }
subscribe-topics-full = { $max } topics of this group are subscribed already; /unsubscribe in one of them first.
subscribe-all-done = Subscribed: every new release will arrive here. /unsubscribe stops it.
subscribe-all-already = You are already subscribed. /unsubscribe stops the messages.
subscribe-has-all = You already get every source, { $name } included. To get only { $name }, send /unsubscribe and then /subscribe { $name }.
subscribe-source-done = Subscribed to { $name }: its new releases will arrive here. /sources shows what you get; /unsubscribe { $name } stops it.
subscribe-source-already = You are already subscribed to { $name }. /unsubscribe { $name } stops it.
unsubscribe-all-done = Unsubscribed: no more release messages. /subscribe brings them back.
unsubscribe-all-not = You were not subscribed. /subscribe to get every new release.
unsubscribe-source-not = You were not subscribed to { $name }. /subscribe { $name } to get it.
unsubscribe-source-left = Unsubscribed from { $name }. You still get: { $left }.
unsubscribe-source-last = Unsubscribed from { $name }; that was your last source, so no more release messages. /subscribe brings them back.

## Channels

channel-private-only = Channels are subscribed from a private chat with me: open it, and send /subscribe @channel there (you must be an administrator of the channel).
channel-too-many = You have subscribed { $max } channels already; /unsubscribe one of them first (/subscriptions lists them).
channel-subscribed-all = Subscribed { $name }: every new release will be posted there. /unsubscribe { $name } stops it; /subscriptions lists your channels.
channel-subscribed-source = Subscribed { $name }: every new release of { $source } will be posted there. /unsubscribe { $name } stops it; /subscriptions lists your channels.
channel-already = { $name } is subscribed already. /unsubscribe { $name } stops it.
channel-not-subscribed = { $name } was not subscribed.
channel-not-subscribed-to = { $name } was not subscribed to { $source }.
channel-unsubscribed = Unsubscribed { $name }: no more release posts there.
channel-unsubscribed-from = Unsubscribed { $name } from { $source }.
channel-bot-cannot-post = I am an administrator of { $name }, but may not post messages there. Give me the “Post messages” right (channel settings → Administrators → me), then send this again.
channel-bot-not-admin = I am not an administrator of { $name }. Add me as an administrator allowed to post messages (channel settings → Administrators → Add Admin), then send this again.
channel-you-not-admin = You are not an administrator of { $name }: only its administrators can change what it gets.
channel-not-found = I cannot find the channel { $name }. Check the name (a public channel's @username, or a private channel's id, -100…), and add me to the channel as an administrator.
channel-not-a-channel = { $name } is not a channel. To subscribe a group, add me to it and send /subscribe there.
channels-from-private = A channel's settings are changed from a private chat with me: send the command there, with the channel first (for example /quiet @channel 23:00-07:00).

## /filter

filter-args-usage = Usage: /filter [add word | add -word | remove word | clear]; for a channel, in a private chat with me: /filter @channel …
settings-topics-full = This group keeps settings for { $max } topics already; /filter clear, /quiet off and /digest off in one of them make room.
filter-usage = Usage: /filter lists the keyword filters; /filter add visa gets only releases that mention “visa” (or “visas”…); /filter add "visa centre" for a phrase; /filter add -visa leaves out releases that mention it; /filter remove visa; /filter clear.
filter-empty = A filter needs a word: letters or digits, for example /filter add visa.
filter-too-long = A filter may be at most { $max } characters long.
filter-unquoted = Put a phrase in quotes: /filter add "visa centre". To get releases that mention either word, add each on its own.
filter-unclosed = A quote is not closed: /filter add "visa centre".
filter-list-none =
    { $place ->
        [topic] This topic
        [channel] { $name }
       *[chat] This chat
    } gets every release: it has no keyword filters.
    /filter add visa gets only the releases that mention “visa” (or “visas”…) in the title or lead; /filter add -visa leaves them out; a phrase goes in quotes.
filter-list-every = { $place ->
    [topic] This topic
    [channel] { $name }
   *[chat] This chat
} gets every release
filter-list-only = { $place ->
    [topic] This topic
    [channel] { $name }
   *[chat] This chat
} gets only the releases that mention { $words }
filter-list-except = , except those that mention { $words }
filter-list-count = { $count } of { $max } filters. /filter remove visa drops one, /filter clear all; /latest shows every release all the same.
filter-full = { $place ->
    [topic] This topic
    [channel] { $name }
   *[chat] This chat
} has { $max } filters, the most it may have: /filter remove one first.
filter-already = { $word } is a filter here already. /filter lists them.
filter-included = Done: releases that mention { $word } reach { $place ->
    [topic] this topic
    [channel] { $name }
   *[chat] this chat
}{ $again ->
    [yes] {" "}again
   *[no] {""}
}. /filter lists the filters.
filter-excluded = Done: releases that mention { $word } no longer reach { $place ->
    [topic] this topic
    [channel] { $name }
   *[chat] this chat
}. /filter lists the filters.
filter-removed = Removed the filter { $filter }. /filter lists what { $place ->
    [topic] this topic
    [channel] { $name }
   *[chat] this chat
} has left.
filter-not-there = { $place ->
    [topic] This topic
    [channel] { $name }
   *[chat] This chat
} has no filter { $word }. /filter lists them.
filter-cleared-none = { $place ->
    [topic] This topic
    [channel] { $name }
   *[chat] This chat
} had no filters: it gets every release.
filter-cleared = Filters cleared: { $place ->
    [topic] this topic
    [channel] { $name }
   *[chat] this chat
} gets every release again.

## /quiet

quiet-args-usage = Usage: /quiet 23:00-07:00 [time zone] or /quiet off; for a channel, in a private chat with me: /quiet @channel …
quiet-usage = Usage: /quiet 23:00-07:00 holds releases overnight and sends them together at 07:00; add a time zone to use another than Europe/London (/quiet 23:00-07:00 Europe/Moscow); /quiet off ends them; /quiet shows them.
quiet-same-times = Quiet hours must start and end at different times, for example /quiet 23:00-07:00.
bad-time = “{ $typed }” is not a time of day: write it as HH:MM, from 00:00 to 23:59 (for example 07:00).
bad-zone = I don't know the time zone “{ $typed }”. Use a name from the time zone database, such as Europe/London, Europe/Moscow or Asia/Dubai.
quiet-none = { $place ->
    [topic] This topic
    [channel] { $name }
   *[chat] This chat
} has no quiet hours: releases arrive as they are published. /quiet 23:00-07:00 holds them overnight and sends them together in the morning (add a time zone for another than Europe/London).
quiet-shown-held = Quiet hours: { $hours }. It is quiet now, until { $until }; { $waiting } waiting. /quiet off ends them.
quiet-shown-open = Quiet hours: { $hours }. Releases published in them arrive together when they end. /quiet off ends them.
quiet-set = Quiet hours set for { $place ->
    [topic] this topic
    [channel] { $name }
   *[chat] this chat
}: { $hours }. Releases published then are held and arrive together when they end. /quiet off ends them.
quiet-now = It is quiet now, until { $until }.
quiet-off-none = { $place ->
    [topic] This topic
    [channel] { $name }
   *[chat] This chat
} has no quiet hours.
quiet-off = Quiet hours are off: releases arrive as they are published.
quiet-off-on-way = { $count ->
    [one] The 1 release held is on its way.
   *[other] The { $count } releases held are on their way.
}

## /digest

digest-args-usage = Usage: /digest 09:00 [time zone] or /digest off; for a channel, in a private chat with me: /digest @channel …
digest-usage = Usage: /digest 09:00 sends one message a day at 09:00 with every release since the one before; add a time zone to use another than Europe/London (/digest 09:00 Europe/Moscow); /digest off goes back to one message per release; /digest shows it.
digest-next = on { $date } at { $time }
digest-none = { $place ->
    [topic] This topic
    [channel] { $name }
   *[chat] This chat
} gets each release on its own. /digest 09:00 sends one message a day instead, with every release since the one before (add a time zone for another than Europe/London).
digest-shown = Daily digest at { $when }: the next { $next }, with { $waiting } so far. /digest off goes back to one message per release.
digest-set = Daily digest for { $place ->
    [topic] this topic
    [channel] { $name }
   *[chat] this chat
} at { $when }: one message a day with every release since the one before; the first { $next }. /digest off goes back to one message per release.
digest-off-none = { $place ->
    [topic] This topic
    [channel] { $name }
   *[chat] This chat
} gets each release on its own already.
digest-off = Daily digest off: { $place ->
    [topic] this topic
    [channel] { $name }
   *[chat] this chat
} gets each release on its own again.
digest-off-on-way = { $count ->
    [one] The 1 release waiting for the digest is on its way.
   *[other] The { $count } releases waiting for the digest are on their way.
}
digest-daily-header = 🗞 Daily digest: { $count ->
    [one] 1 new release
   *[other] { $count } new releases
}
digest-quiet-header = 🗞 During the quiet hours: { $count ->
    [one] 1 new release
   *[other] { $count } new releases
}

## /language

language-args-usage = Usage: /language en or /language ru; for a channel, in a private chat with me: /language @channel …
language-usage = Usage: /language en for English, /language ru for Russian (Русский); /language shows the one in use.
language-shown = The language of { $place ->
    [group] this group
    [channel] { $name }
   *[chat] this chat
}: { $language }. To change it: /language en or /language ru.
language-set = The language of { $place ->
    [group] this group
    [channel] { $name }
   *[chat] this chat
} is now { $language }.

## Buttons under replies (plain text: answers to presses are not HTML)
button-newer = ◀ Newer
button-older = Older ▶
button-full-text = 📄 Full text
button-short = ◀ Short
button-full-text-n = 📄 { $n }
full-text-not-yet = The full text has not been read from the site yet; please try again in a minute (the title is the link to the page).
full-text-none = The full text of this release could not be read from the site; the title is the link to the page.
button-back = ◀ Back
button-more = More ▶
button-expired = This button has expired: send { $command } again.
button-expired-any = This button has expired: send the command again (/help lists them).
button-admins-only = Only this chat's administrators can change what it gets; nothing was changed.
button-cannot-check = I could not check your rights in this chat (Telegram did not answer). Please try again in a minute.
button-subscribed = Subscribed to { $name }: its new releases will arrive here.
button-unsubscribed = Unsubscribed from { $name }.
button-topics-full = { $max } topics of this group are subscribed already; unsubscribe one of them first.
