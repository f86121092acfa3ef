var cs = "Host=pg;Username=app;Password=04Ao41FuTmIJli;Database=app";
