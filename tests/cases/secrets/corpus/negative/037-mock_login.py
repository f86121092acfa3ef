def test_login():
    client.login('alice', password='test-password')
    token = 'fake-token-for-tests'
