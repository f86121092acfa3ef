variable "api_token" {
  description = "API token for the provider"
  type        = string
}
