client = Square::Client.new(access_token: 'EAAA_rwANwPmGfvXXlHii10rOX0QFVFwg_WvYs6YvgfxqvOjtcBBttx6UFjduE1y')
