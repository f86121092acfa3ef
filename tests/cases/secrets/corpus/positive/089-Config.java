public static final String CLIENT_SECRET = "7IG6143P2gXSw27XN86TX5BS_iBnSXiSX-VU8maq";
