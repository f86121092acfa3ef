doppler run --token dp.st.prd.NnmXbHdjcqOOSTj1sQVO9sB3XthwllC78gxCR6sZ -- ./app
