var conn = "DefaultEndpointsProtocol=https;AccountName=prodstore;AccountKey=XjwOgIOPhOCfGBoHdO+XFxbDWy8/bWIRhe0AoH6BeSvSrO+fQGXjbO7In1H2FV6BFlFDyyRbmsDk14AodxkdHu==;EndpointSuffix=core.windows.net";
