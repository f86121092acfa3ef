db_password = "!gghfm#&F*_S2J2fVcQ-"
