local token = "ghp_8Cw84jSnIAQQSXFvbMjl9njOo5AKvbFpBF4x"
