URL = f"https://api.telegram.org/bot4945422964:AAV4v88GfpQP_-g_3H3LMY-5sISDk-h6RVi/sendMessage"
