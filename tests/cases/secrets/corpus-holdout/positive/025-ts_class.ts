private readonly apiToken = "Z4cRcbpOu2YWGwLRm9XB6YDcRmMDs6aCzIqU7Dte";
