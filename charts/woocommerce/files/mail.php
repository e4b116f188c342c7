<?php
// Sends all of WordPress's mail through the SMTP server named in the store's settings
// (STORE_SMTP_* in the environment; the password comes from a Secret, never from values).
// wp-config.php requires this file before WordPress's plugin API exists, so the hook is
// registered in the form WordPress accepts for hooks added before it loads.

if (!function_exists('storectl_smtp')) {
    /**
     * Points PHPMailer at the configured SMTP server.
     *
     * @param object $mailer WordPress's PHPMailer instance.
     */
    function storectl_smtp($mailer)
    {
        $host = (string) getenv('STORE_SMTP_HOST');
        if ($host === '') {
            return;
        }
        $mailer->isSMTP();
        $mailer->Host = $host;
        $mailer->Port = (int) (getenv('STORE_SMTP_PORT') ?: 587);
        switch ((string) getenv('STORE_SMTP_TLS')) {
            case 'tls':
                $mailer->SMTPSecure = 'ssl';
                $mailer->SMTPAutoTLS = false;
                break;
            case 'none':
                $mailer->SMTPSecure = '';
                $mailer->SMTPAutoTLS = false;
                break;
            default:
                $mailer->SMTPSecure = 'tls';
                $mailer->SMTPAutoTLS = true;
        }
        $user = (string) getenv('STORE_SMTP_USERNAME');
        $mailer->SMTPAuth = $user !== '';
        if ($mailer->SMTPAuth) {
            $mailer->Username = $user;
            $mailer->Password = (string) getenv('STORE_SMTP_PASSWORD');
        }
        $from = (string) getenv('STORE_SMTP_FROM');
        if ($from !== '') {
            $mailer->From = $from;
            $mailer->Sender = $from;
            $name = (string) getenv('STORE_SMTP_FROM_NAME');
            if ($name !== '') {
                $mailer->FromName = $name;
            }
        }
    }
}

if (function_exists('add_action')) {
    add_action('phpmailer_init', 'storectl_smtp');
} else {
    $GLOBALS['wp_filter']['phpmailer_init'][10][] = array(
        'function' => 'storectl_smtp',
        'accepted_args' => 1,
    );
}
