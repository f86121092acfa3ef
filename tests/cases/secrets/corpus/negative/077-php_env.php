$password = getenv('DB_PASSWORD');
$token = $_ENV['API_TOKEN'];
