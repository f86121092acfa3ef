import boto3

s3 = boto3.client(
    's3',
    aws_secret_access_key='f0TTcFjBWoBF26o8B3JKz1SIOFLc6gwxq/JrXJhr',
)
