const firebaseConfig = {
  projectId: 'shop',
  apiKey: 'AIzaiVlB8om-0ELRggKuLlc1wmlchBSYVuFjz4g',
};
