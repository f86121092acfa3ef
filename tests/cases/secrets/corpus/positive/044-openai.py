from openai import OpenAI
client = OpenAI(api_key="sk-proj-3xc0qfhpuTNNy4gnLCEIuNpfEBhABH6vZK1C-FMCT3BlbkFJEYFI5MTDdM2vB2YJTUXgBdyOs0iNcyfEER3JkgGn")
