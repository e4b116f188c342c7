<?php
// Exits 0 once the WordPress database accepts WordPress's own credentials, 1 otherwise.
// mysqli is used instead of "wp db check", which runs the mariadb client: that client
// insists on TLS since MariaDB 11.4 and the store's database does not offer it.
mysqli_report(MYSQLI_REPORT_OFF);

$host = (string) getenv('WORDPRESS_DB_HOST');
$port = 3306;
if (preg_match('/^(.+):(\d+)$/', $host, $m) === 1) {
    $host = $m[1];
    $port = (int) $m[2];
}

$db = @mysqli_connect(
    $host,
    (string) getenv('WORDPRESS_DB_USER'),
    (string) getenv('WORDPRESS_DB_PASSWORD'),
    (string) getenv('WORDPRESS_DB_NAME'),
    $port
);
if ($db === false) {
    fwrite(STDERR, 'database not ready: ' . mysqli_connect_error() . PHP_EOL);
    exit(1);
}
mysqli_close($db);
exit(0);
