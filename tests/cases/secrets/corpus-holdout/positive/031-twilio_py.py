client = Client('ACbc7ffcf452a7e3e1ef390ee0c348b146', 'fd9228d5f8bd8d9d9e4419d162259c87')  # twilio
