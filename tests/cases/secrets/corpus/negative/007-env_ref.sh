export PGPASSWORD="$DB_PASSWORD"
curl -H "Authorization: Bearer $TOKEN" https://api
