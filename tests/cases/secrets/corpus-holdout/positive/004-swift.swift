let apiKey = "AIzab1KcsjwA6Yvwt3levP-i22ctrN8NTcmZUtU"
GMSServices.provideAPIKey(apiKey)
