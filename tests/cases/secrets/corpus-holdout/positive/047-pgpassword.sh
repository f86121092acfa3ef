PGPASSWORD=Tangerine-Otter-31 psql -h db -U app -c 'select 1'
