provider "aws" {
  region     = "us-east-1"
  access_key = "AKIAFSDLHNJ4S7BQUUC7"
  secret_key = "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"
}
