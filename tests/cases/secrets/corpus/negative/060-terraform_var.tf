variable "db_password" {
  type      = string
  sensitive = true
}
resource "x" "y" { password = var.db_password }
