my $dbh = DBI->connect("dbi:Pg:dbname=app", "app", "*daPGKW+6s-SNte5");
my $password = "5Yq3K37Lr3jKdk";
