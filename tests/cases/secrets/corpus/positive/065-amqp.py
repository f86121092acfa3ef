BROKER_URL = 'amqp://worker:qzn4lgAHxZgpI0ou@rabbit.internal:5672//'
