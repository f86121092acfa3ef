import stripe
stripe.api_key = "sk_live_7r19awVlktU0mlanph6FjeJj"
