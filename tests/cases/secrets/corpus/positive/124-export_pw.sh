export SMTP_PASSWORD=Sunflower!Field42
./send-report
