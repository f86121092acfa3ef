String token = "access_token$production$jmupvhp3ephuaiwt$6569d2c27d195c7f8d1e59784263bd14";
