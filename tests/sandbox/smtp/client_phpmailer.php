<?php
// PHPMailer (Debian's libphp-phpmailer) with its default settings: SMTPAutoTLS on, so STARTTLS
// whenever offered, verifying the certificate. An optional CA file is trusted (SMTPOptions).
// Usage: php client_phpmailer.php HOST PORT [CA_FILE]
require "libphp-phpmailer/autoload.php";

use PHPMailer\PHPMailer\PHPMailer;

$mail = new PHPMailer(true);
$mail->isSMTP();
$mail->Host = $argv[1];
$mail->Port = (int) $argv[2];
if (isset($argv[3])) {
    $mail->SMTPOptions = ["ssl" => ["cafile" => $argv[3]]];
}
$mail->setFrom("app@example.com");
$mail->addAddress("user@example.com");
$mail->Subject = "sent by PHPMailer";
$mail->Body = "Hello from PHPMailer.";
try {
    $mail->send();
} catch (Exception $error) {
    fwrite(STDERR, $mail->ErrorInfo . "\n");
    exit(1);
}
echo "sent\n";
