"""People and their health (人员与健康档案): identity numbers, workers, the shared health record, the health rules and clearance to start work (方可上岗).

The notice's 健康状况 and 上岗 requirements live here; every later domain reads a worker's status through it.
"""
