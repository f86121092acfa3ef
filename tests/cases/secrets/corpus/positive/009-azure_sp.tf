provider "azurerm" {
  client_secret = "nrH8Q~-Wrcv2-aCQKt1auT_Tm8fzFJ2ie9j5HHa7"
}
