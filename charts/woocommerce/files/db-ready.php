<?php
// Exits 0 once the WordPress database accepts WordPress's own credentials, 1 otherwise.
// mysqli is used instead of "wp db check", which runs the mariadb client: that client
// insists on TLS since MariaDB 11.4 and the store's database does not offer it.
//
// Both the connection and the server's greeting are bounded by DB_CHECK_TIMEOUT seconds:
// mysqli has no timeout by default, and a server that accepts the connection without ever
// answering would otherwise block this check forever.
mysqli_report(MYSQLI_REPORT_OFF);

$host = (string) getenv('WORDPRESS_DB_HOST');
$port = 3306;
if (preg_match('/^(.+):(\d+)$/', $host, $m) === 1) {
    $host = $m[1];
    $port = (int) $m[2];
}
$timeout = (int) (getenv('DB_CHECK_TIMEOUT') ?: 10);
if ($timeout < 1) {
    $timeout = 1;
}

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
    fwrite(STDERR, sprintf('database %s:%d not ready: %s', $host, $port, $why) . PHP_EOL);
    exit(1);
}
mysqli_close($db);
exit(0);
