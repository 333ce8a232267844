# embassy-bot: русский. Те же сообщения и те же аргументы, что в en.ftl
# (это проверяет тест в src/i18n.rs). Обращение на «вы». Релиз сайта здесь
# «публикация». `$place`: "chat", "topic", "group" или "channel" (тогда
# `$name` — имя канала).

## Общие слова

date = { $day } { $month ->
    [1] января
    [2] февраля
    [3] марта
    [4] апреля
    [5] мая
    [6] июня
    [7] июля
    [8] августа
    [9] сентября
    [10] октября
    [11] ноября
   *[12] декабря
} { $year } г.
day-month = { $day } { $month ->
    [1] января
    [2] февраля
    [3] марта
    [4] апреля
    [5] мая
    [6] июня
    [7] июля
    [8] августа
    [9] сентября
    [10] октября
    [11] ноября
   *[12] декабря
}
date-time-utc = { $date }, { $time } UTC
list-and = { $rest } и { $last }
quoted = «{ $text }»
days-word = { $days ->
    [one] день
    [few] дня
   *[many] дней
}
releases-count = { $count ->
    [one] { $count } публикация
    [few] { $count } публикации
   *[many] { $count } публикаций
}
never = ни разу
sorry = Извините, у меня что-то пошло не так. Пожалуйста, попробуйте позже.
read-on-site = Читать на сайте
more-not-shown = { $count ->
    [one] (ещё { $count } не поместилась: запросите меньше)
   *[other] (ещё { $count } не поместились: запросите меньше)
}

## Меню команд (setMyCommands) и /help

menu-latest = Свежие публикации: /latest [n], n до 20
menu-search = Поиск публикаций: /search слова или "фраза"
menu-subscribe = Получать новые публикации: /subscribe [источник], по умолчанию все
menu-unsubscribe = Отписаться: /unsubscribe [источник], по умолчанию от всех
menu-sources = Источники, ваша подписка, последние чтения
menu-subscriptions = Что получает этот чат и ваши каналы
menu-filter = Только публикации со словом: /filter add виза
menu-quiet = Тихие часы: /quiet 23:00-07:00 [часовой пояс]
menu-digest = Одно сообщение в день: /digest 09:00 [часовой пояс]
menu-language = Язык этого чата: /language ru или en
menu-contact = Телефон и e-mail, как на сайте
menu-time = Дата ({ $date }) и время ({ $clocks })
menu-time-no-clocks = Дата ({ $date })
menu-counters = Счётчики дней с сайта
menu-help = Что умеет этот бот

help-intro = Я слежу за сайтом <b>{ $site }</b> и могу присылать вам каждую новую публикацию, как только она появится.
help-sources = Источники:
help-source = • { $label } ({ $name })
help-pick-one = /subscribe &lt;имя&gt; — подписка только на один из них.
help-groups-and-channels = В группе администратор отправляет /subscribe прямо в ней (в форуме — в той теме, куда должны приходить публикации). Для канала, которым вы управляете, добавьте меня туда администратором с правом публикации, затем отправьте /subscribe @канал здесь. /filter, /quiet, /digest и /language работают так же: в том чате или теме, к которым они относятся, или здесь, с каналом в начале (/quiet @канал 23:00-07:00).
help-command = /{ $name } — { $description }
welcome = Здравствуйте! Я присылаю каждую новую публикацию сайта <b>{ $site }</b> в подписанные чаты. { $who ->
    [anyone] Любой участник
   *[admins] Администратор этой группы
} может отправить /subscribe, чтобы получать их здесь (в форуме — в той теме, куда они должны приходить). /help покажет мои команды.

## Команды чтения

help-usage = Как пользоваться: /help
latest-usage = Как пользоваться: /latest [n], где n — число от 1 до 20 (по умолчанию 5).
sources-usage = Как пользоваться: /sources (без аргументов)
subscriptions-usage = Как пользоваться: /subscriptions (без аргументов)
time-usage = Как пользоваться: /time (без аргументов)
counters-usage = Как пользоваться: /counters (без аргументов)
contact-usage = Как пользоваться: /contact (без аргументов)
status-usage = Как пользоваться: /status (без аргументов)
unknown-command = Я не знаю команды /{ $name }. Отправьте /help, чтобы увидеть список команд.
not-a-command = Я отвечаю только на команды. Отправьте /help, чтобы их увидеть.
too-fast = Слишком много сообщений сразу: я отвечу на первые, а остальные пропущу. Пожалуйста, подождите немного.
over-budget = За последнюю минуту вы отправили много команд; я снова отвечу чуть позже.
press-later = Слишком много нажатий сразу: подождите немного и нажмите снова.

latest-nothing-yet = Публикаций пока нет: сайт ещё не удалось прочитать. Попробуйте через несколько минут.
latest-no-older = Более старых публикаций нет.
latest-one = <b>Последняя публикация</b>
latest-many = <b>Последние публикации: { $count }</b>
latest-older = <b>Публикации { $from }–{ $to }, сначала новые</b>

search-usage = Как пользоваться: /search &lt;слова&gt;, например /search виза Лондон. Публикация найдена, если в её заголовке или анонсе есть каждое слово, с начала слова (виз найдёт «визы»); "фраза" в кавычках ищется как написана, а -слово исключает публикации, где оно есть. Не больше 10 слов и 200 символов.
search-nothing = По запросу <b>{ $query }</b> ничего не найдено. Каждое слово должно быть в заголовке или анонсе, и слово совпадает с начала (виз найдёт «визы»): попробуйте меньше слов или слова короче.
search-found = { $total ->
    [one] <b>{ $total } публикация</b> по запросу <b>{ $query }</b>, сначала новые
    [few] <b>{ $total } публикации</b> по запросу <b>{ $query }</b>, сначала новые
   *[many] <b>{ $total } публикаций</b> по запросу <b>{ $query }</b>, сначала новые
}
search-first-of = Показано { $shown } из { $total }. Добавьте слова, чтобы сузить поиск.
search-range-of = Показаны { $from }–{ $to } из { $total }.
search-past-the-end = { $total ->
    [1] Больше результатов нет: показан единственный.
   *[other] Больше результатов нет: показаны все { $total }.
}

counters-none = Счётчики не настроены.

contact-reply =
    <b>Консульские вопросы</b>
    Телефон: { $phone }
    E-mail: { $email }
    <i>{ $source }</i>
contact-live = Как на сайте, прочитано { $when }.
contact-partly = Частично как на сайте (прочитано { $when }), остальное из настроек бота.
contact-config = Из настроек бота: сайт ещё не прочитан.

## /sources, /subscriptions, /status

gets-nothing = пока ничего (/subscribe — все источники)
gets-every = все источники
sources-header =
    <b>Источники</b>
    Вы получаете: { $gets }
sources-subscribed = { $yes ->
    [yes] Подписка: да
   *[no] Подписка: нет
}
sources-pick-one = /subscribe &lt;имя&gt; или /unsubscribe &lt;имя&gt; — один источник.
sources-range = Источники { $from }–{ $to } из { $total }
sources-errors-header = <b>Источники, которые сейчас не читаются</b> (вы спросили /sources в группе, а там ошибки не показываются; это видите только вы)
source-last-good = Последнее удачное чтение: { $when }
source-count = Публикаций на странице тогда: { $count }
source-failing = Не читается с { $when }
source-error = Последняя ошибка: { $when } — { $error }
source-recovered = (с тех пор читается нормально)
source-fallback = Настроенное извлечение ничего не находит с { $when }; бот читает вместо него: { $what }.

subscriptions-here = { $where ->
    [topic] Эта тема получает
    [private] Вы получаете
   *[chat] Этот чат получает
}: { $gets }
subscriptions-header = <b>Подписки</b>
subscriptions-topics = Темы с собственной подпиской: { $count } (/subscriptions в теме покажет, что она получает)
subscriptions-no-channels = Ваших каналов с подпиской нет. /subscribe @канал [источник] подписывает канал, которым вы управляете (сначала добавьте меня туда администратором).
subscriptions-channels = <b>Ваши каналы с подпиской</b>
subscriptions-unsubscribe-one = /unsubscribe @канал отменяет подписку одного из них.

status-refusal = /status — только для операторов бота (настройка admin_users).
status-report =
    <b>Состояние</b>
    Публикаций в базе: { $items }
    Подписчиков: { $subscribers }
    Сообщений в очереди: { $pending }
    Публикаций ещё рассылается: { $outbox }
    Чатов удалено (заблокировали, исключили, исчезли): { $removed }, сообщений отброшено с ними: { $dropped }
    Сообщений, окончательно отклонённых Telegram: { $given_up }
    Групп, ставших супергруппами: { $migrated }
status-rate = Скорость отправки сейчас: { $rate } сообщ./с (не больше { $max }; снижается, когда Telegram отвечает 429)
status-rate-off = Скорость отправки: без ограничения (telegram.throttle = false)

## /subscribe и /unsubscribe

subscribe-usage = Как пользоваться: /subscribe — все источники, /subscribe &lt;имя&gt; — один (/sources покажет их). Для канала: /subscribe @канал [имя], в личном чате со мной.
unsubscribe-usage = Как пользоваться: /unsubscribe — от всех источников, /unsubscribe &lt;имя&gt; — от одного (/sources покажет их). Для канала: /unsubscribe @канал [имя], в личном чате со мной.
no-such-source = Источника «{ $name }» нет. Источники: { $names }. /sources покажет их.
admins-only = Менять подписку этой группы могут только её администраторы. /sources покажет, что она получает сейчас.
rights-unknown = Не удалось проверить ваши права в этом чате (Telegram не ответил). Пожалуйста, попробуйте через минуту.
lookup-unavailable = Telegram не ответил на мой запрос; пожалуйста, попробуйте через минуту.
lookup-not-found = чат не найден
lookup-refused = Telegram отказал: { $reason }
subscribe-topics-full = В этой группе уже { $max ->
        [one] подписана { $max } тема
        [few] подписаны { $max } темы
       *[other] подписаны { $max } тем
    }; сначала отправьте /unsubscribe в одной из них.
subscribe-all-done = Подписка оформлена: каждая новая публикация будет приходить сюда. /unsubscribe отменит её.
subscribe-all-already = Вы уже подписаны. /unsubscribe отменит рассылку.
subscribe-has-all = Вы уже получаете все источники, включая { $name }. Чтобы получать только { $name }, отправьте /unsubscribe, а затем /subscribe { $name }.
subscribe-source-done = Подписка на { $name } оформлена: новые публикации будут приходить сюда. /sources покажет вашу подписку; /unsubscribe { $name } отменит её.
subscribe-source-already = Вы уже подписаны на { $name }. /unsubscribe { $name } отменит подписку.
unsubscribe-all-done = Подписка отменена: публикаций больше не будет. /subscribe вернёт их.
unsubscribe-all-not = Вы не были подписаны. /subscribe — чтобы получать каждую новую публикацию.
unsubscribe-source-not = Вы не были подписаны на { $name }. /subscribe { $name } — чтобы получать его.
unsubscribe-source-left = Подписка на { $name } отменена. Вы по-прежнему получаете: { $left }.
unsubscribe-source-last = Подписка на { $name } отменена; это был ваш последний источник, публикаций больше не будет. /subscribe вернёт их.

## Каналы

channel-private-only = Каналы подписываются из личного чата со мной: откройте его и отправьте туда /subscribe @канал (вы должны быть администратором канала).
channel-too-many = Вы уже подписали { $max } каналов; сначала отпишите один из них через /unsubscribe (/subscriptions покажет их).
channel-subscribed-all = Канал { $name } подписан: туда будет приходить каждая новая публикация. /unsubscribe { $name } отменит подписку; /subscriptions покажет ваши каналы.
channel-subscribed-source = Канал { $name } подписан: туда будет приходить каждая новая публикация источника { $source }. /unsubscribe { $name } отменит подписку; /subscriptions покажет ваши каналы.
channel-already = Канал { $name } уже подписан. /unsubscribe { $name } отменит подписку.
channel-not-subscribed = Канал { $name } не был подписан.
channel-not-subscribed-to = Канал { $name } не был подписан на { $source }.
channel-unsubscribed = Подписка канала { $name } отменена: публикаций там больше не будет.
channel-unsubscribed-from = Подписка канала { $name } на { $source } отменена.
channel-bot-cannot-post = Я администратор канала { $name }, но не могу публиковать там сообщения. Дайте мне право «Публикация сообщений» (настройки канала → Администраторы → я) и отправьте команду ещё раз.
channel-bot-not-admin = Я не администратор канала { $name }. Добавьте меня администратором с правом публикации сообщений (настройки канала → Администраторы → Добавить администратора) и отправьте команду ещё раз.
channel-you-not-admin = Вы не администратор канала { $name }: менять то, что он получает, могут только его администраторы.
channel-not-found = Не могу найти канал { $name }. Проверьте имя (@username публичного канала или id закрытого, -100…) и добавьте меня в канал администратором.
channel-not-a-channel = { $name } — не канал. Чтобы подписать группу, добавьте меня в неё и отправьте /subscribe там.
channels-from-private = Настройки канала меняются из личного чата со мной: отправьте команду туда, указав канал первым (например, /quiet @канал 23:00-07:00).

## /filter

filter-args-usage = Как пользоваться: /filter [add слово | add -слово | remove слово | clear]; для канала, в личном чате со мной: /filter @канал …
settings-topics-full = В этой группе настройки уже заданы для { $max ->
        [one] { $max } темы
       *[other] { $max } тем
    }; /filter clear, /quiet off и /digest off в одной из них освободят место.
filter-usage = Как пользоваться: /filter покажет фильтры по словам; /filter add виза — только публикации, где упоминается «виза» (или «визами»…); /filter add "визовый центр" — фраза; /filter add -виза исключает публикации с этим словом; /filter remove виза; /filter clear.
filter-empty = Фильтру нужно слово из букв или цифр, например /filter add виза.
filter-too-long = Фильтр может быть не длиннее { $max } символов.
filter-unquoted = Возьмите фразу в кавычки: /filter add "визовый центр". Чтобы получать публикации с любым из слов, добавьте каждое отдельно.
filter-unclosed = Кавычка не закрыта: /filter add "визовый центр".
filter-list-none =
    { $place ->
        [topic] В эту тему
        [channel] В канал { $name }
       *[chat] В этот чат
    } приходят все публикации: фильтров по словам нет.
    /filter add виза — только публикации, где в заголовке или анонсе упоминается «виза» (или «визами»…); /filter add -виза исключает их; фразу пишите в кавычках.
filter-list-every = { $place ->
    [topic] В эту тему
    [channel] В канал { $name }
   *[chat] В этот чат
} приходят все публикации
filter-list-only = { $place ->
    [topic] В эту тему
    [channel] В канал { $name }
   *[chat] В этот чат
} приходят только публикации, где упоминается { $words }
filter-list-except = , кроме тех, где упоминается { $words }
filter-list-count = Фильтров: { $count } из { $max }. /filter remove виза удалит один, /filter clear — все; /latest всё равно показывает все публикации.
filter-full = { $place ->
    [topic] У этой темы
    [channel] У канала { $name }
   *[chat] У этого чата
} уже { $max } фильтров, больше нельзя: сначала удалите один через /filter remove.
filter-already = Фильтр { $word } здесь уже есть. /filter покажет все.
filter-included = Готово: публикации, где упоминается { $word }, { $again ->
    [yes] снова приходят
   *[no] приходят
} { $place ->
    [topic] в эту тему
    [channel] в канал { $name }
   *[chat] в этот чат
}. /filter покажет фильтры.
filter-excluded = Готово: публикации, где упоминается { $word }, больше не приходят { $place ->
    [topic] в эту тему
    [channel] в канал { $name }
   *[chat] в этот чат
}. /filter покажет фильтры.
filter-removed = Фильтр { $filter } удалён. /filter покажет, что осталось { $place ->
    [topic] у этой темы
    [channel] у канала { $name }
   *[chat] у этого чата
}.
filter-not-there = { $place ->
    [topic] У этой темы
    [channel] У канала { $name }
   *[chat] У этого чата
} нет фильтра { $word }. /filter покажет все.
filter-cleared-none = { $place ->
    [topic] У этой темы
    [channel] У канала { $name }
   *[chat] У этого чата
} не было фильтров: приходят все публикации.
filter-cleared = Фильтры удалены: { $place ->
    [topic] в эту тему
    [channel] в канал { $name }
   *[chat] в этот чат
} снова приходят все публикации.

## /quiet

quiet-args-usage = Как пользоваться: /quiet 23:00-07:00 [часовой пояс] или /quiet off; для канала, в личном чате со мной: /quiet @канал …
quiet-usage = Как пользоваться: /quiet 23:00-07:00 задерживает публикации на ночь и присылает их вместе в 07:00; добавьте часовой пояс, если нужен не Europe/London (/quiet 23:00-07:00 Europe/Moscow); /quiet off отключает тихие часы; /quiet показывает их.
quiet-same-times = Тихие часы должны начинаться и заканчиваться в разное время, например /quiet 23:00-07:00.
bad-time = «{ $typed }» — не время суток: напишите его как ЧЧ:ММ, от 00:00 до 23:59 (например, 07:00).
bad-zone = Я не знаю часового пояса «{ $typed }». Используйте название из базы часовых поясов, например Europe/London, Europe/Moscow или Asia/Dubai.
quiet-none = { $place ->
    [topic] У этой темы
    [channel] У канала { $name }
   *[chat] У этого чата
} нет тихих часов: публикации приходят сразу. /quiet 23:00-07:00 задержит их на ночь и пришлёт вместе утром (добавьте часовой пояс, если нужен не Europe/London).
quiet-shown-held = Тихие часы: { $hours }. Сейчас тихо, до { $until }; ждут отправки: { $waiting }. /quiet off отключает их.
quiet-shown-open = Тихие часы: { $hours }. Публикации, вышедшие в это время, придут вместе, когда они закончатся. /quiet off отключает их.
quiet-set = Тихие часы для { $place ->
    [topic] этой темы
    [channel] канала { $name }
   *[chat] этого чата
}: { $hours }. Публикации, вышедшие в это время, задерживаются и придут вместе, когда тихие часы закончатся. /quiet off отключает их.
quiet-now = Сейчас тихо, до { $until }.
quiet-off-none = { $place ->
    [topic] У этой темы
    [channel] У канала { $name }
   *[chat] У этого чата
} нет тихих часов.
quiet-off = Тихие часы отключены: публикации приходят сразу.
quiet-off-on-way = { $count ->
    [one] { $count } задержанная публикация уже в пути.
    [few] { $count } задержанные публикации уже в пути.
   *[many] { $count } задержанных публикаций уже в пути.
}

## /digest

digest-args-usage = Как пользоваться: /digest 09:00 [часовой пояс] или /digest off; для канала, в личном чате со мной: /digest @канал …
digest-usage = Как пользоваться: /digest 09:00 присылает одно сообщение в день в 09:00 со всеми публикациями с предыдущего; добавьте часовой пояс, если нужен не Europe/London (/digest 09:00 Europe/Moscow); /digest off возвращает по сообщению на публикацию; /digest показывает настройку.
digest-next = { $date } в { $time }
digest-none = { $place ->
    [topic] В эту тему
    [channel] В канал { $name }
   *[chat] В этот чат
} каждая публикация приходит отдельно. /digest 09:00 вместо этого присылает одно сообщение в день со всеми публикациями с предыдущего (добавьте часовой пояс, если нужен не Europe/London).
digest-shown = Ежедневная сводка в { $when }: следующая — { $next }, пока в ней { $waiting }. /digest off возвращает по сообщению на публикацию.
digest-set = Ежедневная сводка для { $place ->
    [topic] этой темы
    [channel] канала { $name }
   *[chat] этого чата
} в { $when }: одно сообщение в день со всеми публикациями с предыдущего; первая — { $next }. /digest off возвращает по сообщению на публикацию.
digest-off-none = { $place ->
    [topic] В эту тему
    [channel] В канал { $name }
   *[chat] В этот чат
} и так каждая публикация приходит отдельно.
digest-off = Ежедневная сводка отключена: { $place ->
    [topic] в эту тему
    [channel] в канал { $name }
   *[chat] в этот чат
} снова каждая публикация приходит отдельно.
digest-off-on-way = { $count ->
    [one] { $count } публикация, ждавшая сводки, уже в пути.
    [few] { $count } публикации, ждавшие сводки, уже в пути.
   *[many] { $count } публикаций, ждавших сводки, уже в пути.
}
digest-daily-header = 🗞 Ежедневная сводка: { $count ->
    [one] { $count } новая публикация
    [few] { $count } новые публикации
   *[many] { $count } новых публикаций
}
digest-quiet-header = 🗞 За тихие часы: { $count ->
    [one] { $count } новая публикация
    [few] { $count } новые публикации
   *[many] { $count } новых публикаций
}

## /language

language-args-usage = Как пользоваться: /language ru или /language en; для канала, в личном чате со мной: /language @канал …
language-usage = Как пользоваться: /language en — английский (English), /language ru — русский; /language покажет текущий.
language-shown = Язык { $place ->
    [group] этой группы
    [channel] канала { $name }
   *[chat] этого чата
}: { $language }. Сменить: /language en или /language ru.
language-set = Теперь язык { $place ->
    [group] этой группы
    [channel] канала { $name }
   *[chat] этого чата
}: { $language }.

## Buttons under replies (plain text: answers to presses are not HTML)
button-newer = ◀ Новее
button-older = Раньше ▶
button-full-text = 📄 Полный текст
button-short = ◀ Кратко
button-full-text-n = 📄 { $n }
full-text-not-yet = Полный текст ещё не прочитан с сайта; попробуйте через минуту (заголовок — ссылка на страницу).
full-text-none = Полный текст этой публикации не удалось прочитать с сайта; заголовок — ссылка на страницу.
button-back = ◀ Назад
button-more = Дальше ▶
button-expired = Эта кнопка устарела: отправьте { $command } ещё раз.
button-expired-any = Эта кнопка устарела: отправьте команду ещё раз (/help покажет список).
button-admins-only = Менять подписку этого чата могут только его администраторы; ничего не изменено.
button-cannot-check = Не удалось проверить ваши права в этом чате (Telegram не ответил). Попробуйте через минуту.
button-subscribed = Подписка на { $name } оформлена: новые публикации будут приходить сюда.
button-unsubscribed = Подписка на { $name } отменена.
button-topics-full = В этой группе уже { $max ->
        [one] подписана { $max } тема
        [few] подписаны { $max } темы
       *[other] подписаны { $max } тем
    }; сначала отмените подписку в одной из них.
