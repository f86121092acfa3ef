$password = ConvertTo-SecureString "8NG58FeZfPx&fp33" -AsPlainText -Force
