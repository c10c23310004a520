print("modelroute-bench")
