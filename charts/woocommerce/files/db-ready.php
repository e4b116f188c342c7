<?php
// Exits 0 once the WordPress database accepts WordPress's own credentials, 1 otherwise.
// mysqli is used instead of "wp db check", which runs the mariadb client: that client
// insists on TLS since MariaDB 11.4 and the store's database does not offer it.
//
// Both the connection and the server's greeting are bounded by DB_CHECK_TIMEOUT seconds:
// mysqli has no timeout by default, and a server that accepts the connection without ever
// answering would otherwise block this check forever.
//
// With DB_EXPECT_VERSION (a MariaDB release such as "11.8") the server must also run that
// release. The MariaDB image runs mariadb-upgrade before it accepts network connections, so a
// server of the expected release has finished its own upgrade.
//
// With DB_WAIT_INTERVAL (seconds) it keeps checking at that interval until the database is
// ready, printing why it is not each time the reason changes.
mysqli_report(MYSQLI_REPORT_OFF);

// release_matches says whether a server version ("11.8.3-MariaDB-ubu2404") is of release
// $want ("11.8" or "11.8.3").
function release_matches(string $have, string $want): bool
{
    if (strpos($have, '5.5.5-') === 0) {
        // The prefix MariaDB's greeting carries for old MySQL clients.
        $have = substr($have, 6);
    }
    return $have === $want || strpos($have, $want . '.') === 0 || strpos($have, $want . '-') === 0;
}

// check returns why the database is not ready, or null when it is.
function check(string $host, int $port, int $timeout, string $want): ?string
{
    $db = mysqli_init();
    mysqli_options($db, MYSQLI_OPT_CONNECT_TIMEOUT, $timeout);
    mysqli_options($db, MYSQLI_OPT_READ_TIMEOUT, $timeout);
    $ok = @mysqli_real_connect(
        $db,
        $host,
        (string) getenv('WORDPRESS_DB_USER'),
        (string) getenv('WORDPRESS_DB_PASSWORD'),
        (string) getenv('WORDPRESS_DB_NAME'),
        $port
    );
    if ($ok !== true) {
        $why = mysqli_connect_error();
        if ($why === null || $why === '') {
            $why = 'no answer within ' . $timeout . 's';
        }
        return sprintf('database %s:%d not ready: %s', $host, $port, $why);
    }
    $problem = null;
    if ($want !== '') {
        $res = @mysqli_query($db, 'SELECT VERSION()');
        $row = $res ? mysqli_fetch_row($res) : null;
        $have = is_array($row) ? (string) $row[0] : '';
        if ($have === '') {
            $problem = sprintf('database %s:%d did not say its version: %s', $host, $port, mysqli_error($db));
        } elseif (!release_matches($have, $want)) {
            $problem = sprintf('database %s:%d runs MariaDB %s, not yet %s', $host, $port, $have, $want);
        }
    }
    mysqli_close($db);
    return $problem;
}

$host = (string) getenv('WORDPRESS_DB_HOST');
$port = 3306;
if (preg_match('/^(.+):(\d+)$/', $host, $m) === 1) {
    $host = $m[1];
    $port = (int) $m[2];
}
$timeout = max(1, (int) (getenv('DB_CHECK_TIMEOUT') ?: 10));
$want = trim((string) getenv('DB_EXPECT_VERSION'));
$interval = (int) getenv('DB_WAIT_INTERVAL');

$last = null;
while (true) {
    $problem = check($host, $port, $timeout, $want);
    if ($problem === null) {
        if ($interval > 0) {
            fwrite(STDOUT, sprintf('database %s:%d is ready%s', $host, $port, $want === '' ? '' : ' (MariaDB ' . $want . ')') . PHP_EOL);
        }
        exit(0);
    }
    if ($problem !== $last) {
        fwrite(STDERR, $problem . PHP_EOL);
        $last = $problem;
    }
    if ($interval <= 0) {
        exit(1);
    }
    sleep($interval);
}
