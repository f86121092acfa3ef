read -s -p "Password: " PASSWORD
export PGPASSWORD="$PASSWORD"
