Stripe.api_key = ENV.fetch('X', nil)
AWS_KEY = 'AKIA6GYWMQTYLGO55EQ5'
