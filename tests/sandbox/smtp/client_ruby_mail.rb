# Ruby's mail gem (Debian's ruby-mail, what Rails' ActionMailer uses) with its default SMTP
# settings: enable_starttls_auto, so STARTTLS whenever offered, verifying the certificate.
# An optional CA file is trusted (ca_file).
# Usage: ruby client_ruby_mail.rb HOST PORT [CA_FILE]
require "mail"

host, port, ca_file = ARGV
settings = { address: host, port: Integer(port) }
settings[:ca_file] = ca_file if ca_file
Mail.defaults { delivery_method :smtp, settings }

Mail.deliver do
  from "app@example.com"
  to "user@example.com"
  subject "sent by the mail gem"
  body "Hello from Ruby."
end
puts "sent"
