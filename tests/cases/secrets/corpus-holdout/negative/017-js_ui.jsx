<TextField type="password" label="Password" value={password} onChange={setPassword} />
