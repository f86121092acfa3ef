def test_auth(client):
    resp = client.post('/login', json={'password': 'wrong'})
    assert resp.status_code == 401
