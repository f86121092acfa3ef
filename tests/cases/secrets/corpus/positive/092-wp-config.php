define( 'DB_PASSWORD', 'sR-+!_b8Nu9gHrfr' );
