"""AWS adapters: DynamoDB store, SES, SQS, SSM, and the clients they are given. The only botocore code."""
